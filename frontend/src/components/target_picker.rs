//! The server chooser: a `<select>` of catalog targets, and how a page
//! names the chosen one.

use web_sys::HtmlSelectElement;
use wirelab_shared::relay_protocol::TargetInfo;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TargetPickerProps {
    pub targets: Vec<TargetInfo>,
    /// The chosen target's name.
    pub selected: Option<String>,
    pub on_change: Callback<String>,
    #[prop_or_default]
    pub disabled: bool,
}

#[function_component(TargetPicker)]
pub fn target_picker(props: &TargetPickerProps) -> Html {
    let on_change = props.on_change.clone();
    let onchange = Callback::from(move |e: Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        on_change.emit(select.value());
    });
    html! {
        <label>{ "Server " }
            <select data-testid="target-select" onchange={onchange} disabled={props.disabled}>
                { for props.targets.iter().map(|t| html! {
                    <option value={t.name.clone()} selected={props.selected.as_deref() == Some(t.name.as_str())}>
                        { format!("{} — {} {}:{}", t.name, t.transport, t.host, t.port) }
                    </option>
                }) }
            </select>
        </label>
    }
}

/// The target named `chosen`, or the first one.
pub fn pick<'a>(targets: &'a [TargetInfo], chosen: Option<&str>) -> Option<&'a TargetInfo> {
    chosen
        .and_then(|name| targets.iter().find(|t| t.name == name))
        .or(targets.first())
}

/// How a page names its server (in the timeline's lane): `smtp
/// (127.0.0.1:2525)`, or nothing without one.
pub fn server_label(target: Option<&TargetInfo>) -> String {
    target
        .map(|t| format!("{} ({}:{})", t.name, t.host, t.port))
        .unwrap_or_default()
}
