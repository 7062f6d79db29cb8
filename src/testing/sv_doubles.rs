//! The seed's `Sv` test doubles, for code that controls services and
//! wants to be tested without a running runit.

use std::sync::Mutex;
use std::time::Duration;

use crate::sv::{STATUS_RUN, Service, StatResult, Sv, SvError};

/// Records every call and succeeds (the seed's `RecordingSV`). `stat`
/// reports a running service, as [`FakeSv`] does.
///
/// ```
/// use servicebuilder::sv::{Service, Sv};
/// use servicebuilder::testing::RecordingSv;
/// let sv = RecordingSv::new();
/// let web = Service::new("/etc/service", "web");
/// sv.start(&web).unwrap();
/// sv.stop(&web, std::time::Duration::from_secs(1)).unwrap();
/// assert_eq!(sv.last_command().as_deref(), Some("stop"));
/// assert_eq!(sv.commands(), ["start", "stop"]);
/// ```
#[derive(Debug, Default)]
pub struct RecordingSv {
    calls: Mutex<Vec<(String, Service)>>,
}

impl RecordingSv {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The commands so far, oldest first: `start`, `stop`, `stat`,
    /// `restart`, `once`.
    pub fn commands(&self) -> Vec<String> {
        self.calls().into_iter().map(|(c, _)| c).collect()
    }

    /// The commands so far with the service each was given.
    pub fn calls(&self) -> Vec<(String, Service)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The latest command, if any (the seed's `LastCommand`).
    pub fn last_command(&self) -> Option<String> {
        self.commands().pop()
    }

    fn record(&self, command: &str, service: &Service) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((command.to_owned(), service.clone()));
    }
}

impl Sv for RecordingSv {
    fn start(&self, service: &Service) -> Result<String, SvError> {
        self.record("start", service);
        Ok(String::new())
    }
    fn stop(&self, service: &Service, _timeout: Duration) -> Result<String, SvError> {
        self.record("stop", service);
        Ok(String::new())
    }
    fn stat(&self, service: &Service) -> Result<StatResult, SvError> {
        self.record("stat", service);
        FakeSv.stat(service)
    }
    fn restart(&self, service: &Service, _timeout: Duration) -> Result<String, SvError> {
        self.record("restart", service);
        Ok(String::new())
    }
    fn once(&self, service: &Service) -> Result<String, SvError> {
        self.record("once", service);
        Ok(String::new())
    }
}

/// Fails every call with [`SvError::NotRunning`] (the seed's `ErringSV`).
///
/// ```
/// use servicebuilder::sv::{Service, Sv, SvError};
/// let sv = servicebuilder::testing::ErringSv;
/// assert!(matches!(sv.start(&Service::at("/x/web")), Err(SvError::NotRunning { .. })));
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct ErringSv;

fn not_running(service: &Service) -> SvError {
    SvError::NotRunning {
        service: service.path.clone(),
    }
}

impl Sv for ErringSv {
    fn start(&self, service: &Service) -> Result<String, SvError> {
        Err(not_running(service))
    }
    fn stop(&self, service: &Service, _timeout: Duration) -> Result<String, SvError> {
        Err(not_running(service))
    }
    fn stat(&self, service: &Service) -> Result<StatResult, SvError> {
        Err(not_running(service))
    }
    fn restart(&self, service: &Service, _timeout: Duration) -> Result<String, SvError> {
        Err(not_running(service))
    }
    fn once(&self, service: &Service) -> Result<String, SvError> {
        Err(not_running(service))
    }
}

/// Succeeds at everything and reports the service and its logger as
/// running (the seed's `FakeSV`).
///
/// ```
/// use servicebuilder::sv::{Service, Sv};
/// let st = servicebuilder::testing::FakeSv.stat(&Service::at("/x/web")).unwrap();
/// assert_eq!((st.child_status.as_str(), st.log_status.as_str()), ("run", "run"));
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeSv;

impl FakeSv {
    /// The pid [`FakeSv::stat`] reports for the service (the logger's is
    /// one less).
    pub const PID: u64 = 4242;
}

impl Sv for FakeSv {
    fn start(&self, service: &Service) -> Result<String, SvError> {
        Ok(format!("ok: run: {}: (pid {}) 0s", service.name, Self::PID))
    }
    fn stop(&self, service: &Service, _timeout: Duration) -> Result<String, SvError> {
        Ok(format!("ok: down: {}: 0s", service.name))
    }
    fn stat(&self, _service: &Service) -> Result<StatResult, SvError> {
        Ok(StatResult {
            child_status: STATUS_RUN.to_owned(),
            child_pid: Self::PID,
            child_time: Duration::from_secs(1),
            log_status: STATUS_RUN.to_owned(),
            log_pid: Self::PID - 1,
            log_time: Duration::from_secs(1),
        })
    }
    fn restart(&self, service: &Service, _timeout: Duration) -> Result<String, SvError> {
        self.start(service)
    }
    fn once(&self, service: &Service) -> Result<String, SvError> {
        self.start(service)
    }
}
