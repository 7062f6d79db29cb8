//! The YAML template loader, then the renderer on every service it accepts:
//! any input is either refused with a positioned error or renders.
#![no_main]
use libfuzzer_sys::fuzz_target;
use servicebuilder::render::{RenderOptions, render_service};
use servicebuilder::template::parse_templates;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_templates(text, "fuzz.yaml".as_ref()) {
        Ok(templates) => {
            let opts = RenderOptions::default();
            for (name, t) in &templates {
                // Accepted templates are valid by contract.
                t.validate()
                    .expect("parse_templates returned an invalid template");
                let entries = render_service(name, t, &opts);
                assert!(!entries.is_empty());
                // Normalised YAML reads back equal.
                let again = parse_templates(
                    &servicebuilder::template::to_yaml(&templates),
                    "again.yaml".as_ref(),
                )
                .expect("normalised YAML must parse");
                assert_eq!(again, templates);
            }
        }
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.yaml"));
        }
    }
});
