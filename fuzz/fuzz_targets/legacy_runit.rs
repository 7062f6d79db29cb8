//! The legacy dh-runit `debian/PACKAGE.runit` file: read as lines of words
//! (as debhelper's filedoublearray), then every entry's options parsed and
//! planned as dh_servicebuilder does.
#![no_main]
use libfuzzer_sys::fuzz_target;
use servicebuilder::debhelper::arch::ArchValues;
use servicebuilder::debhelper::install::PackagePlan;
use servicebuilder::debhelper::legacy;
use servicebuilder::debhelper::options::Env;
use servicebuilder::debhelper::pkgfile::{Lookup, filedoublearray};

fuzz_target!(|data: &[u8]| {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("debian")).unwrap();
    std::fs::write(root.path().join("debian/pkg.runit"), data).unwrap();
    std::fs::write(root.path().join("debian/pkg.sv"), b"#!/bin/sh\nexec true\n").unwrap();
    let env = Env::default();
    let values = ArchValues::default();
    let lookup = Lookup {
        root: root.path(),
        env: &env,
        values: &values,
        name: None,
        mainpackage: "pkg",
    };
    for compat in [12, 13] {
        let Ok(lines) = filedoublearray(&lookup, "debian/pkg.runit", compat, &["pkg".into()])
        else {
            continue;
        };
        let mut plan = PackagePlan {
            package: "pkg".into(),
            tmp: "debian/pkg".into(),
            ..Default::default()
        };
        for (i, words) in lines.iter().enumerate() {
            let opts = words.get(1).map(String::as_str).unwrap_or("");
            let _ = legacy::parse_options(opts);
            if legacy::plan_entry(
                root.path(),
                &words[0],
                opts,
                &format!("line {i}"),
                &mut plan,
            )
            .is_ok()
            {
                let name = &plan.services.last().unwrap().name;
                servicebuilder::template::validate_service_name(name)
                    .expect("a planned service has a valid name");
            }
        }
    }
});
