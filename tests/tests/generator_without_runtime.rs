//! Text to Video when no runtime can be reached (its own binary: it points the plugin at a
//! runtime executable that does not exist). Every action still answers; the user reads why on
//! the status line and the node.
mod common;

use common::*;
use dreamfx_test_host::*;

#[test]
fn no_runtime_is_said_on_the_status_line_and_the_node_never_a_crash() {
    private_runtime_dir("no-runtime");
    std::env::set_var("DREAMFX_RUNTIME_EXE", "/nonexistent/dreamfx-runtime");
    let (_host, bundle) = load(HostProfile::default(), "no-runtime");
    let inst = bundle
        .plugin("dreamfx.TextToVideo")
        .unwrap()
        .create_instance(Context::Generator, InstanceSetup::new(32, 18))
        .unwrap();
    let status = |inst: &Instance| {
        inst.param("status")
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    };

    inst.set_param("prompt", "a green square").unwrap();
    assert!(
        status(&inst).contains("not checked") && status(&inst).contains("not running"),
        "{}",
        status(&inst)
    );

    inst.press_button("generateNow").unwrap();
    assert!(status(&inst).contains("not running"), "{}", status(&inst));

    assert!(inst.render_full(0.0).is_err());
    let message = inst.persistent_message();
    assert!(
        message
            .as_ref()
            .is_some_and(|(_, text)| text.contains("Text to Video") && text.contains("not running")),
        "{message:?}"
    );
}
