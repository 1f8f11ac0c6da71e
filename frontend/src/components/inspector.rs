//! The inspector every workbench uses for one message: the dissection tree
//! (expand, collapse, each field's help), the bytes pane (hex and text), and
//! the diagnostics list, linked both ways: selecting a field highlights its
//! bytes, clicking a byte selects the deepest field that holds it, and
//! clicking a diagnostic highlights the bytes it is about.

use crate::plural::plural;
use std::collections::HashSet;
use std::rc::Rc;
use wirelab_shared::dissect::{Dissection, Field, Severity, Span};
use wirelab_shared::text::ascii_cell;
use yew::prelude::*;

/// Bytes per row of the bytes pane.
pub const ROW: usize = 16;
/// Bytes shown before "show all".
pub const SHOWN_BYTES: usize = 4096;

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub bytes: Rc<Vec<u8>>,
    pub dissection: Rc<Dissection>,
    /// Where the message came from ("sent", "received", "draft").
    #[prop_or_default]
    pub source: AttrValue,
}

/// What is selected: a field (by path) and the bytes highlighted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub path: Option<Vec<usize>>,
    pub span: Option<Span>,
}

impl Selection {
    /// Selecting the field at `path`.
    pub fn field(d: &Dissection, path: Vec<usize>) -> Selection {
        let span = d.field_at(&path).map(|f| f.span);
        Selection {
            path: Some(path),
            span,
        }
    }

    /// Clicking the byte at `offset`: the deepest field that holds it.
    pub fn byte(d: &Dissection, offset: usize) -> Selection {
        match d.path_at(offset) {
            Some(path) => Selection::field(d, path),
            None => Selection {
                path: None,
                span: Some(Span::new(offset, offset + 1)),
            },
        }
    }

    /// Clicking a diagnostic: its span, and the field where it starts.
    pub fn span(d: &Dissection, span: Span) -> Selection {
        Selection {
            path: d.path_at(span.start),
            span: Some(span),
        }
    }
}

fn path_key(path: &[usize]) -> String {
    path.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[function_component(Inspector)]
pub fn inspector(props: &InspectorProps) -> Html {
    let selection = use_state(Selection::default);
    // The student's own choices; everything else follows `default_open`.
    let collapsed = use_state(HashSet::<Vec<usize>>::new);
    let expanded = use_state(HashSet::<Vec<usize>>::new);
    let show_all = use_state(|| false);
    {
        // A new message starts with nothing selected.
        let selection = selection.clone();
        let show_all = show_all.clone();
        use_effect_with(props.bytes.clone(), move |_| {
            selection.set(Selection::default());
            show_all.set(false);
        });
    }
    let d = props.dissection.clone();
    let on_field = {
        let selection = selection.clone();
        let d = d.clone();
        Callback::from(move |path: Vec<usize>| selection.set(Selection::field(&d, path)))
    };
    let on_byte = {
        let selection = selection.clone();
        let d = d.clone();
        Callback::from(move |offset: usize| selection.set(Selection::byte(&d, offset)))
    };
    let on_span = {
        let selection = selection.clone();
        let d = d.clone();
        Callback::from(move |span: Span| selection.set(Selection::span(&d, span)))
    };
    let on_toggle = {
        let collapsed = collapsed.clone();
        let expanded = expanded.clone();
        Callback::from(move |(path, open): (Vec<usize>, bool)| {
            let mut closed = (*collapsed).clone();
            let mut opened = (*expanded).clone();
            if open {
                opened.remove(&path);
                closed.insert(path);
            } else {
                closed.remove(&path);
                opened.insert(path);
            }
            collapsed.set(closed);
            expanded.set(opened);
        })
    };
    let selected_field = selection.path.as_ref().and_then(|p| d.field_at(p));
    let help = selected_field.map(|f| {
        html! {
            <div class="field-help" data-testid="field-help">
                <strong>{ &f.name }</strong>
                <span class="span">{ format!(" bytes {}", f.span) }</span>
                if let Some(h) = &f.help { <p>{ h }</p> }
            </div>
        }
    });
    let tree_ctx = TreeCtx {
        selected: selection.path.clone(),
        collapsed: (*collapsed).clone(),
        expanded: (*expanded).clone(),
        on_field,
        on_toggle,
    };
    html! {
        <div class="inspector" data-testid="inspector" data-source={props.source.clone()}>
            <section class="dissection" data-testid="dissection" data-source={props.source.clone()}>
                <header>
                    <span class="protocol">{ d.protocol.label() }</span>
                    <span class="summary" data-testid="dissection-summary">{ &d.summary }</span>
                    <span class="length">{ plural(d.length, "byte") }</span>
                </header>
                <ul class="tree">
                    { for d.fields.iter().enumerate().map(|(i, f)| render_field(f, vec![i], &tree_ctx)) }
                </ul>
                { for help }
            </section>
            <BytesPane bytes={props.bytes.clone()} highlight={selection.span}
                       on_byte={on_byte} show_all={*show_all}
                       on_show_all={ let show_all = show_all.clone(); Callback::from(move |_| show_all.set(true)) } />
            <DiagnosticsList dissection={Some(d.clone())} on_select={on_span} />
        </div>
    }
}

struct TreeCtx {
    selected: Option<Vec<usize>>,
    collapsed: HashSet<Vec<usize>>,
    expanded: HashSet<Vec<usize>>,
    on_field: Callback<Vec<usize>>,
    /// The path, and whether it is open now.
    on_toggle: Callback<(Vec<usize>, bool)>,
}

impl TreeCtx {
    /// Whether a field's children show: the student's choice if any, open
    /// on the way to the selected field, else the default.
    fn is_open(&self, field: &Field, path: &[usize]) -> bool {
        if self
            .selected
            .as_ref()
            .is_some_and(|s| s.len() > path.len() && s.starts_with(path))
        {
            return true;
        }
        if self.expanded.contains(path) {
            return true;
        }
        if self.collapsed.contains(path) {
            return false;
        }
        default_open(field, path)
    }
}

/// Header lines start folded (their label already shows name and value),
/// like Wireshark's tree; everything else starts open.
pub fn default_open(field: &Field, path: &[usize]) -> bool {
    !(path.len() == 1 && field.name.starts_with("Header"))
}

fn render_field(field: &Field, path: Vec<usize>, ctx: &TreeCtx) -> Html {
    let selected = ctx.selected.as_ref() == Some(&path);
    let has_children = !field.children.is_empty();
    let open = ctx.is_open(field, &path);
    let on_select = {
        let on_field = ctx.on_field.clone();
        let path = path.clone();
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            on_field.emit(path.clone());
        })
    };
    let toggle = has_children.then(|| {
        let on_toggle = ctx.on_toggle.clone();
        let path = path.clone();
        let onclick = Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            on_toggle.emit((path.clone(), open));
        });
        html! {
            <button class="toggle" data-testid="toggle" onclick={onclick}
                    title={if open { "collapse" } else { "expand" }}>{ if open { "▾" } else { "▸" } }</button>
        }
    });
    html! {
        <li class={classes!("field", (!has_children).then_some("leaf"))} data-testid="field"
            data-name={field.name.clone()} data-path={path_key(&path)}
            data-selected={selected.to_string()}>
            <div class={classes!("label", selected.then_some("selected"))} onclick={on_select}
                 title={field.help.clone().unwrap_or_default()}>
                { for toggle }
                <span class="name">{ &field.name }</span>
                if !field.value.is_empty() {
                    <span class="value">{ &field.value }</span>
                }
                <span class="span">{ format!("[{}]", field.span) }</span>
            </div>
            if has_children && open {
                <ul>
                    { for field.children.iter().enumerate().map(|(i, c)| {
                        let mut child = path.clone();
                        child.push(i);
                        render_field(c, child, ctx)
                    }) }
                </ul>
            }
        </li>
    }
}

#[derive(Properties, PartialEq)]
pub struct BytesPaneProps {
    pub bytes: Rc<Vec<u8>>,
    pub highlight: Option<Span>,
    pub on_byte: Callback<usize>,
    pub show_all: bool,
    pub on_show_all: Callback<()>,
}

/// Hex and text columns, 16 bytes a row, with the highlighted span marked.
#[function_component(BytesPane)]
pub fn bytes_pane(props: &BytesPaneProps) -> Html {
    let bytes = &props.bytes;
    let limit = if props.show_all {
        bytes.len()
    } else {
        bytes.len().min(SHOWN_BYTES)
    };
    let hl = props.highlight;
    let is_hl = |i: usize| hl.is_some_and(|s| s.contains_offset(i));
    let rows = (0..limit).step_by(ROW).map(|start| {
        let end = (start + ROW).min(limit);
        let hex = (start..end).map(|i| {
            let on_byte = props.on_byte.clone();
            let onclick = Callback::from(move |_| on_byte.emit(i));
            html! {
                <span class={classes!("b", is_hl(i).then_some("hl"))} data-offset={i.to_string()} onclick={onclick}>
                    { format!("{:02x}", bytes[i]) }
                </span>
            }
        });
        let text = (start..end).map(|i| {
            let on_byte = props.on_byte.clone();
            let onclick = Callback::from(move |_| on_byte.emit(i));
            html! {
                <span class={classes!("c", is_hl(i).then_some("hl"))} onclick={onclick}>{ ascii_cell(bytes[i]).to_string() }</span>
            }
        });
        html! {
            <div class="row">
                <span class="offset">{ format!("{start:04x}") }</span>
                <span class="hex">{ for hex }</span>
                <span class="text">{ for text }</span>
            </div>
        }
    });
    let highlight_attr = hl.map(|s| s.to_string()).unwrap_or_default();
    let more = (limit < bytes.len()).then(|| {
        let on_show_all = props.on_show_all.clone();
        html! {
            <button class="small" data-testid="bytes-show-all" onclick={Callback::from(move |_| on_show_all.emit(()))}>
                { format!("show all {}", plural(bytes.len(), "byte")) }
            </button>
        }
    });
    html! {
        <section class="bytes-pane" data-testid="bytes" data-highlight={highlight_attr}
                 data-length={bytes.len().to_string()}>
            { for rows }
            { for more }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct DiagnosticsProps {
    pub dissection: Option<Rc<Dissection>>,
    /// Clicking a diagnostic selects its span.
    #[prop_or_default]
    pub on_select: Option<Callback<Span>>,
}

pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The rules a message breaks, worst first as the dissector listed them.
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
                    { for items.iter().map(|d| {
                        let onclick = props.on_select.clone().map(|cb| {
                            let span = d.span;
                            Callback::from(move |_: MouseEvent| cb.emit(span))
                        });
                        html! {
                            <li class={classes!("diagnostic", severity_name(d.severity))}
                                data-testid="diagnostic" data-severity={severity_name(d.severity)}
                                data-span={d.span.to_string()} onclick={onclick}>
                                <span class="severity">{ severity_name(d.severity) }</span>
                                <span class="message">{ &d.message }</span>
                                if let Some(r) = &d.reference {
                                    <span class="reference">{ r }</span>
                                }
                            </li>
                        }
                    }) }
                </ul>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::http::dissect_response;

    #[test]
    fn selections_link_fields_bytes_and_diagnostics() {
        let msg = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection close\r\n\r\nhi";
        let d = dissect_response(msg);
        let header = d
            .fields
            .iter()
            .position(|f| f.name == "Header: Content-Length")
            .unwrap();
        let by_field = Selection::field(&d, vec![header]);
        assert_eq!(by_field.span.unwrap().slice(msg), b"Content-Length: 2\r\n");
        // A byte inside "Content-Length" selects the Name leaf of that header.
        let by_byte = Selection::byte(&d, 20);
        assert_eq!(
            d.field_at(by_byte.path.as_ref().unwrap()).unwrap().name,
            "Name"
        );
        assert_eq!(by_byte.path.as_ref().unwrap()[0], header);
        let diag = d.diagnostics[0].span;
        let by_diag = Selection::span(&d, diag);
        assert_eq!(by_diag.span, Some(diag));
        assert!(by_diag.path.is_some());
        // Past the end: nothing to select but the byte itself.
        assert_eq!(Selection::byte(&d, 999).path, None);
        assert_eq!(path_key(&[1, 0, 3]), "1.0.3");
        assert!(!default_open(&d.fields[header], &[header]));
        assert!(default_open(&d.fields[0], &[0]));
    }
}
