//! Empty: the package exists for its benchmark (template.rs).
