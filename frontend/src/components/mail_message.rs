//! One mail message opened as a mail reader would, and taken apart as the
//! lab does: the envelope the servers recorded beside the header's From
//! and To, the MIME parts as a tree with each part decoded (text shown,
//! files offered for download, images previewed), the header fields with
//! their encoded words decoded, and the raw source in the inspector.
//!
//! Everything it shows comes from `wirelab_shared::mail::view` and
//! `mail::dissect`; the caller passes the message as stored (a POP3 RETR
//! body with its stuffing removed).

use crate::components::inspector::Inspector;
use crate::plural::plural;
use std::rc::Rc;
use wirelab_shared::mail::dissect;
use wirelab_shared::mail::transfer::encode_base64;
use wirelab_shared::mail::view::{MessageView, PartView};
use yew::prelude::*;

/// Largest file offered as a `data:` link or image preview.
pub const MAX_INLINE_FILE: usize = 2 * 1024 * 1024;

#[derive(Properties, PartialEq)]
pub struct MailMessageProps {
    pub bytes: Rc<Vec<u8>>,
    /// Where it comes from ("message 3, retrieved with RETR 3").
    #[prop_or_default]
    pub title: AttrValue,
}

fn data_url(media_type: &str, bytes: &[u8]) -> String {
    format!("data:{media_type};base64,{}", encode_base64(bytes, None))
}

fn render_part(part: &PartView) -> Html {
    let mut facts = vec![part.media_type.clone()];
    if let Some(charset) = &part.charset {
        facts.push(format!("charset {charset}"));
    }
    if !part.is_multipart {
        facts.push(format!("{} encoding", part.encoding));
        facts.push(
            if part.encoding == "base64" || part.encoding == "quoted-printable" {
                format!(
                    "{} on the wire, {} decoded",
                    plural(part.body.len(), "byte"),
                    plural(part.decoded.len(), "byte")
                )
            } else {
                plural(part.decoded.len(), "byte")
            },
        );
    }
    let file = part.attachment.then(|| {
        let name = part.filename.clone().unwrap_or_else(|| "attachment".into());
        let inline = part.decoded.len() <= MAX_INLINE_FILE;
        let image = inline && part.media_type.starts_with("image/");
        html! {
            <div class="part-file">
                { "📎 " }<strong>{ &name }</strong>
                if inline {
                    { " " }
                    <a data-testid="part-download" download={name.clone()}
                       href={data_url(&part.media_type, &part.decoded)}>{ "download" }</a>
                }
                if image {
                    <div><img class="part-image" alt={name} src={data_url(&part.media_type, &part.decoded)} /></div>
                }
            </div>
        }
    });
    html! {
        <li class="mail-part" data-testid="mail-part" data-label={part.label.clone()}
            data-type={part.media_type.clone()} style={format!("margin-left: {}em", part.depth * 2)}>
            <div class="part-head">
                <span class="part-label">{ &part.label }</span>
                <span class="part-facts">{ facts.join(" · ") }</span>
            </div>
            { for file }
            if let Some(text) = &part.text {
                <pre class="part-text" data-testid="part-text">{ text }</pre>
            }
            { for part.problems.iter().map(|p| html! { <p class="part-problem">{ format!("⚠ {p}") }</p> }) }
        </li>
    }
}

#[function_component(MailMessage)]
pub fn mail_message(props: &MailMessageProps) -> Html {
    let view = use_memo(props.bytes.clone(), |bytes| MessageView::of(bytes));
    let dissection = use_memo(props.bytes.clone(), |bytes| dissect(bytes));
    let envelope = if view.envelope_rows.is_empty() {
        html! {
            <p class="hint">{ "No Return-Path or Received line: the envelope of this message was not recorded." }</p>
        }
    } else {
        html! {
            <table class="envelope" data-testid="mail-envelope">
                <thead><tr><th><span class="sr-only">{ "Field" }</span></th><th>{ "Envelope (SMTP)" }</th><th>{ "Header (what the reader sees)" }</th><th><span class="sr-only">{ "Why" }</span></th></tr></thead>
                <tbody>
                    { for view.envelope_rows.iter().map(|row| html! {
                        <tr data-testid="envelope-row" data-agree={row.agree.to_string()}
                            class={classes!(if row.agree { "agree" } else { "differ" })}>
                            <th>{ &row.role }</th>
                            <td><code>{ row.envelope.clone().unwrap_or_else(|| "—".into()) }</code></td>
                            <td><code>{ row.header.clone().unwrap_or_else(|| "—".into()) }</code></td>
                            <td class="explain">{ &row.explanation }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        }
    };
    html! {
        <article class="mail-message" data-testid="mail-message">
            if !props.title.is_empty() { <h3>{ props.title.clone() }</h3> }
            <dl class="mail-headline">
                <dt>{ "Subject" }</dt><dd data-testid="mail-subject">{ view.subject.clone().unwrap_or_else(|| "(no Subject:)".into()) }</dd>
                <dt>{ "From" }</dt><dd>{ view.from.clone().unwrap_or_else(|| "(no From:)".into()) }</dd>
                <dt>{ "To" }</dt><dd>{ view.to.clone().unwrap_or_else(|| "(no To:)".into()) }</dd>
                <dt>{ "Date" }</dt><dd>{ view.date.clone().unwrap_or_else(|| "(no Date:)".into()) }</dd>
            </dl>
            <h4>{ format!("Envelope and header ({} Received line{})", view.hops, if view.hops == 1 { "" } else { "s" }) }</h4>
            { envelope }
            <h4>{ "MIME parts" }</h4>
            <ul class="mail-parts" data-testid="mail-parts">
                { for view.parts.iter().map(render_part) }
            </ul>
            <h4>{ "Header fields" }</h4>
            <table class="mail-headers" data-testid="mail-headers">
                <tbody>
                    { for view.headers.iter().map(|h| html! {
                        <tr>
                            <th>{ &h.name }</th>
                            <td>
                                <code>{ &h.value }</code>
                                if let Some(decoded) = &h.decoded {
                                    <div class="decoded">{ format!("→ {decoded}") }</div>
                                }
                            </td>
                        </tr>
                    }) }
                </tbody>
            </table>
            <h4>{ "Raw source" }</h4>
            <Inspector bytes={props.bytes.clone()} dissection={dissection.clone()} source="message" />
        </article>
    }
}
