//! The inspector every workbench uses for one message: the dissection tree
//! (expand, collapse, each field's help), the bytes pane (hex and text), and
//! the diagnostics list, linked both ways: selecting a field highlights its
//! bytes, clicking a byte selects the deepest field that holds it, and
//! clicking a diagnostic highlights the bytes it is about.

use crate::plural::plural;
use std::collections::HashSet;
use std::rc::Rc;
use wirelab_shared::dissect::{Dissection, Field, Severity, Span};
use wirelab_shared::rfc::course_numbers_note;
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
                if let Some(h) = &f.help {
                    <p>{ h }</p>
                    if let Some(note) = course_numbers_note(h) {
                        <p class="hint" data-testid="field-help-rfc">{ note }</p>
                    }
                }
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
                    { for d.fields.iter().enumerate().map(|(i, f)| render_field(f, vec![i], d.fields.len(), &tree_ctx)) }
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
    fn is_open(&self, field: &Field, path: &[usize], siblings: usize) -> bool {
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
        default_open(field, path, siblings)
    }
}

/// Siblings past which the ones with children of their own start folded.
pub const MANY_SIBLINGS: usize = 16;

/// Header lines start folded (their label already shows name and value),
/// like Wireshark's tree, and so do the items of a long list (a 1 MB
/// chunked body's 128 chunks, each with its four parts, made the tree cost
/// 20-80 ms to mount, issue 13); everything else starts open. `siblings`
/// counts the field and the others under its parent.
pub fn default_open(field: &Field, path: &[usize], siblings: usize) -> bool {
    let header_line = path.len() == 1 && field.name.starts_with("Header");
    let in_long_list = siblings > MANY_SIBLINGS && !field.children.is_empty();
    !(header_line || in_long_list)
}

fn render_field(field: &Field, path: Vec<usize>, siblings: usize, ctx: &TreeCtx) -> Html {
    let selected = ctx.selected.as_ref() == Some(&path);
    let has_children = !field.children.is_empty();
    let open = ctx.is_open(field, &path, siblings);
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
                        render_field(c, child, field.children.len(), ctx)
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
///
/// The rows go into the DOM as one piece of markup ([`rows_markup`]) that
/// the browser parses natively, and one click handler on the whole pane
/// finds the byte from the clicked cell's `data-offset`: a Yew node and a
/// callback per byte made mounting a 4 KiB view cost 50–250 ms (issue 13).
#[function_component(BytesPane)]
pub fn bytes_pane(props: &BytesPaneProps) -> Html {
    let bytes = &props.bytes;
    let limit = if props.show_all {
        bytes.len()
    } else {
        bytes.len().min(SHOWN_BYTES)
    };
    let hl = props.highlight;
    // Rebuilt only when what it shows changes, not on every render.
    let rows = use_memo((bytes.clone(), limit, hl), |(bytes, limit, hl)| {
        Html::from_html_unchecked(rows_markup(&bytes[..*limit], *hl).into())
    });
    let onclick = {
        let on_byte = props.on_byte.clone();
        let length = bytes.len();
        Callback::from(move |e: MouseEvent| {
            if let Some(offset) = clicked_offset(&e, length) {
                on_byte.emit(offset);
            }
        })
    };
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
                 data-length={bytes.len().to_string()} onclick={onclick}>
            <div class="rows">{ (*rows).clone() }</div>
            { for more }
        </section>
    }
}

/// The byte under a click in the bytes pane: the `data-offset` of the
/// nearest cell around the click's target, if it is one of the message's.
fn clicked_offset(e: &MouseEvent, length: usize) -> Option<usize> {
    let target = e.target_dyn_into::<web_sys::Element>()?;
    let cell = target.closest("[data-offset]").ok()??;
    parse_offset(&cell.get_attribute("data-offset")?, length)
}

/// A `data-offset` read back from the DOM, only if it names a byte of the
/// message (`length` bytes long).
pub fn parse_offset(attr: &str, length: usize) -> Option<usize> {
    attr.parse::<usize>().ok().filter(|&offset| offset < length)
}

/// The markup of the bytes pane's rows for `bytes` (the ones shown), the
/// bytes within `highlight` marked `hl`: each row its offset, a hex cell
/// (`.b`) and a text cell (`.c`) per byte, each cell with its `data-offset`.
pub fn rows_markup(bytes: &[u8], highlight: Option<Span>) -> String {
    use std::fmt::Write;
    let is_hl = |i: usize| highlight.is_some_and(|s| s.contains_offset(i));
    let class = |i: usize| if is_hl(i) { " hl" } else { "" };
    // About 60 bytes of markup per byte shown.
    let mut out = String::with_capacity(bytes.len() * 64);
    for (row, chunk) in bytes.chunks(ROW).enumerate() {
        let start = row * ROW;
        let _ = write!(
            out,
            r#"<div class="row"><span class="offset">{start:04x}</span><span class="hex">"#
        );
        for (i, byte) in (start..).zip(chunk) {
            let _ = write!(
                out,
                r#"<span class="b{}" data-offset="{i}">{byte:02x}</span>"#,
                class(i)
            );
        }
        out.push_str(r#"</span><span class="text">"#);
        for (i, &byte) in (start..).zip(chunk) {
            let _ = write!(out, r#"<span class="c{}" data-offset="{i}">"#, class(i));
            push_text_cell(&mut out, byte);
            out.push_str("</span>");
        }
        out.push_str("</span></div>");
    }
    out
}

/// The text column's cell for one byte, escaped for markup.
fn push_text_cell(out: &mut String, byte: u8) {
    push_escaped(out, ascii_cell(byte));
}

/// `c` as markup text: the three characters that would be read as markup
/// are written as entities.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
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
                                    <span class="reference" title={course_numbers_note(r)}>{ r }</span>
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
        assert!(!default_open(&d.fields[header], &[header], d.fields.len()));
        assert!(default_open(&d.fields[0], &[0], d.fields.len()));
    }

    #[test]
    fn rows_markup_has_a_cell_per_byte_with_its_offset_and_highlight() {
        let bytes: Vec<u8> = (0..20u8).map(|i| b'a' + i).collect();
        let markup = rows_markup(&bytes, Some(Span::new(15, 17)));
        assert_eq!(markup.matches(r#"<div class="row">"#).count(), 2);
        assert_eq!(markup.matches(r#"<span class="b"#).count(), 20);
        assert_eq!(markup.matches(r#"<span class="c"#).count(), 20);
        // Bytes 15 and 16, in both columns, straddling the rows.
        assert_eq!(markup.matches(r#" hl""#).count(), 4);
        assert!(markup.contains(r#"<span class="b hl" data-offset="16">71</span>"#));
        assert!(markup.contains(r#"<span class="c hl" data-offset="15">p</span>"#));
        assert!(markup.contains(r#"<span class="b" data-offset="17">72</span>"#));
        assert!(markup.contains(r#"<span class="offset">0010</span>"#));
        assert_eq!(rows_markup(&[], None), "");
    }

    #[test]
    fn rows_markup_escapes_what_markup_would_read() {
        let markup = rows_markup(b"<a&b>\r\n", None);
        assert!(markup.contains(r#"data-offset="0">&lt;</span>"#));
        assert!(markup.contains(r#"data-offset="2">&amp;</span>"#));
        assert!(markup.contains(r#"data-offset="4">&gt;</span>"#));
        assert!(markup.contains(r#"data-offset="5">.</span>"#));
        assert!(!markup.contains("<a"));
    }

    #[test]
    fn the_chunks_of_a_long_chunked_body_start_folded() {
        let chunked = |n: usize| {
            let mut msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for _ in 0..n {
                msg.extend_from_slice(b"2\r\nhi\r\n");
            }
            msg.extend_from_slice(b"0\r\n\r\n");
            dissect_response(&msg)
        };
        let first_chunk_open = |n: usize| {
            let d = chunked(n);
            let body = d.fields.iter().position(|f| f.name == "Body").unwrap();
            let chunks = &d.fields[body].children;
            assert_eq!(chunks[0].name, "Chunk 1");
            default_open(&chunks[0], &[body, 0], chunks.len())
        };
        assert!(first_chunk_open(3));
        assert!(!first_chunk_open(MANY_SIBLINGS));
    }

    #[test]
    fn parse_offset_takes_only_offsets_inside_the_message() {
        assert_eq!(parse_offset("0", 4), Some(0));
        assert_eq!(parse_offset("3", 4), Some(3));
        assert_eq!(parse_offset("4", 4), None);
        assert_eq!(parse_offset("-1", 4), None);
        assert_eq!(parse_offset("", 4), None);
        assert_eq!(parse_offset("99999999999999999999999", 4), None);
    }
}
