//! The dissection pane (a tree of fields, each with its value and help) and
//! the diagnostics list, for whatever message the workbench selected.

use std::rc::Rc;
use wirelab_shared::dissect::{Dissection, Field, Severity};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DissectionProps {
    pub dissection: Option<Rc<Dissection>>,
    /// Where the dissected bytes came from: "sent", "received", "draft".
    #[prop_or_default]
    pub source: AttrValue,
}

#[function_component(DissectionView)]
pub fn dissection_view(props: &DissectionProps) -> Html {
    let Some(d) = props.dissection.as_ref() else {
        return html! {
            <section class="dissection empty" data-testid="dissection">
                <p class="hint">{ "Type a message or click a transcript entry to see it taken apart." }</p>
            </section>
        };
    };
    html! {
        <section class="dissection" data-testid="dissection" data-source={props.source.clone()}>
            <header>
                <span class="protocol">{ d.protocol.label() }</span>
                <span class="summary" data-testid="dissection-summary">{ &d.summary }</span>
                <span class="length">{ format!("{} bytes", d.length) }</span>
            </header>
            <ul class="tree">
                { for d.fields.iter().map(field_node) }
            </ul>
        </section>
    }
}

fn field_node(field: &Field) -> Html {
    let label = html! {
        <>
            <span class="name">{ &field.name }</span>
            if !field.value.is_empty() {
                <span class="value">{ &field.value }</span>
            }
            <span class="span">{ format!("[{}]", field.span) }</span>
        </>
    };
    let help = field
        .help
        .as_ref()
        .map(|h| html! { <p class="help">{ h }</p> });
    if field.children.is_empty() {
        html! {
            <li class="field leaf" data-testid="field" data-name={field.name.clone()}>
                { label }
                { for help }
            </li>
        }
    } else {
        html! {
            <li class="field" data-testid="field" data-name={field.name.clone()}>
                <details open=true>
                    <summary>{ label }</summary>
                    { for help }
                    <ul>{ for field.children.iter().map(field_node) }</ul>
                </details>
            </li>
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct DiagnosticsProps {
    pub dissection: Option<Rc<Dissection>>,
}

pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

#[function_component(DiagnosticsList)]
pub fn diagnostics_list(props: &DiagnosticsProps) -> Html {
    let items = props
        .dissection
        .as_ref()
        .map(|d| d.diagnostics.clone())
        .unwrap_or_default();
    html! {
        <section class="diagnostics" data-testid="diagnostics" data-count={items.len().to_string()}>
            if items.is_empty() {
                <p class="hint">{ "No rule broken." }</p>
            } else {
                <ul>
                    { for items.iter().map(|d| html! {
                        <li class={classes!("diagnostic", severity_name(d.severity))}
                            data-testid="diagnostic" data-severity={severity_name(d.severity)}>
                            <span class="severity">{ severity_name(d.severity) }</span>
                            <span class="message">{ &d.message }</span>
                            if let Some(r) = &d.reference {
                                <span class="reference">{ r }</span>
                            }
                            <span class="span">{ format!("[{}]", d.span) }</span>
                        </li>
                    }) }
                </ul>
            }
        </section>
    }
}
