//! What the browser tests need beyond finding and clicking: running a
//! script in the page (also one that answers later), an element's pixels,
//! the window's size, keys sent to whatever has the focus (as a student's
//! keyboard would), and a second tab in the same profile to switch to.
//!
//! The caller passes scripts that `return` a JSON value; an element
//! screenshot is compared as its PNG text, so two equal renderings are
//! equal strings.

use crate::{Browser, ELEMENT_KEY, Element};
use anyhow::{Result, anyhow};
use serde_json::{Value, json};

/// WebDriver's key codes (W3C WebDriver, "Keyboard actions").
pub mod key {
    pub const ENTER: &str = "\u{E007}";
    pub const TAB: &str = "\u{E004}";
    /// Held for the rest of one `send_keys` string.
    pub const CONTROL: &str = "\u{E009}";
    pub const ESCAPE: &str = "\u{E00C}";
}

impl Browser {
    /// Runs `script` in the page as an asynchronous function: it ends by
    /// calling its last argument with the result (how a promise's value,
    /// such as an accessibility check's report, comes back).
    pub fn execute_async(&self, script: &str, args: &[Value]) -> Result<Value> {
        let v = self.session_call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )?;
        Ok(v["value"].clone())
    }

    /// The element as a base64 PNG of its box on the screen.
    pub fn screenshot(&self, element: &Element) -> Result<String> {
        let v = self.session_call("GET", &format!("/element/{}/screenshot", element.0), None)?;
        v["value"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no screenshot in {v}"))
    }

    /// Resizes the browser's window (the outer size, as a phone's would be).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.session_call(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )?;
        Ok(())
    }

    /// The element that has the keyboard focus.
    pub fn active_element(&self) -> Result<Element> {
        let v = self.session_call("GET", "/element/active", None)?;
        v["value"][ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_string()))
            .ok_or_else(|| anyhow!("nothing has the focus: {v}"))
    }

    /// The `data-testid` of the focused element (`None` for one without).
    pub fn focused_testid(&self) -> Result<Option<String>> {
        let focused = self.active_element()?;
        self.attribute(&focused, "data-testid")
    }

    /// The handle of the tab (window) the commands go to now.
    pub fn current_tab(&self) -> Result<String> {
        let v = self.session_call("GET", "/window", None)?;
        v["value"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no window handle in {v}"))
    }

    /// Opens a new tab in the same profile and switches to it; returns its
    /// handle. The tabs share the page's origin, as a student's two tabs do.
    pub fn open_tab(&self) -> Result<String> {
        let v = self.session_call("POST", "/window/new", Some(json!({ "type": "tab" })))?;
        let handle = v["value"]["handle"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no handle for the new tab in {v}"))?;
        self.switch_to_tab(&handle)?;
        Ok(handle)
    }

    /// Sends the next commands to the tab `handle`.
    pub fn switch_to_tab(&self, handle: &str) -> Result<()> {
        self.session_call("POST", "/window", Some(json!({ "handle": handle })))?;
        Ok(())
    }

    /// Types `keys` into the focused element, wherever the focus is.
    pub fn send_keys(&self, keys: &str) -> Result<()> {
        let focused = self.active_element()?;
        self.type_text(&focused, keys)
    }
}
