//! The mail servers' mailboxes as their store holds them (not as one POP3
//! session sees them): each address with its message count and size, and
//! a button that resets it to its seed messages, so the course's session
//! can be replayed after it deleted everything.
//!
//! With a relay it uses `GET /api/mailboxes` and
//! `POST /api/mailboxes/{address}/reset`; with the in-browser servers it
//! reads and resets their shared in-memory store. The caller passes a
//! `refresh` key that changes whenever the list may have changed (a reply
//! arrived, a session ended).

use crate::local;
use crate::relay_info::use_relay_info;
use serde::Deserialize;
use wirelab_shared::mail::store::course_accounts;
use yew::prelude::*;

/// One mailbox as `GET /api/mailboxes` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MailboxSummary {
    pub address: String,
    pub messages: usize,
    pub bytes: u64,
    /// A POP3 session holds it now.
    #[serde(default)]
    pub locked: bool,
}

/// The in-browser store's mailboxes.
fn local_summaries() -> Vec<MailboxSummary> {
    let store = local::mail_store();
    course_accounts()
        .into_iter()
        .map(|a| {
            let messages = store.messages(&a.address);
            MailboxSummary {
                messages: messages.len(),
                bytes: messages.iter().map(|(_, m)| m.len() as u64).sum(),
                locked: store.is_locked(&a.address),
                address: a.address,
            }
        })
        .collect()
}

async fn reset_on_relay(address: &str) -> Result<(), String> {
    let path = format!("/api/mailboxes/{address}/reset");
    let response = gloo_net::http::Request::post(&path)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    Err(response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{path}: HTTP {status}")))
}

#[derive(Properties, PartialEq)]
pub struct ServerMailboxesProps {
    /// Changes whenever the mailboxes may have changed.
    #[prop_or_default]
    pub refresh: u64,
}

#[function_component(ServerMailboxes)]
pub fn server_mailboxes(props: &ServerMailboxesProps) -> Html {
    let info = use_relay_info();
    let offline = info.is_offline();
    let online = info.is_online();
    let list = use_state(|| None::<Vec<MailboxSummary>>);
    let error = use_state(|| None::<String>);
    // Bumped by the page's own actions (reset, the refresh button).
    let reloads = use_state(|| 0u64);
    {
        let list = list.clone();
        let error = error.clone();
        use_effect_with(
            (props.refresh, *reloads, offline, online),
            move |(_, _, offline, online)| {
                if *offline {
                    list.set(Some(local_summaries()));
                } else if *online {
                    yew::platform::spawn_local(async move {
                        match crate::api::get_json::<Vec<MailboxSummary>>("/api/mailboxes").await {
                            Ok(found) => {
                                error.set(None);
                                list.set(Some(found));
                            }
                            Err(e) => error.set(Some(e.message)),
                        }
                    });
                }
            },
        );
    }
    let on_reset = {
        let reloads = reloads.clone();
        let error = error.clone();
        Callback::from(move |address: String| {
            error.set(None);
            if offline {
                if let Err(e) = local::mail_store().reset(&address) {
                    error.set(Some(e.to_string()));
                }
                reloads.set(*reloads + 1);
            } else {
                let reloads = reloads.clone();
                let error = error.clone();
                yew::platform::spawn_local(async move {
                    if let Err(e) = reset_on_relay(&address).await {
                        error.set(Some(e));
                    }
                    reloads.set(*reloads + 1);
                });
            }
        })
    };
    let on_refresh = {
        let reloads = reloads.clone();
        Callback::from(move |_: MouseEvent| reloads.set(*reloads + 1))
    };
    html! {
        <section class="server-mailboxes" data-testid="server-mailboxes">
            <h2>{ "Mailboxes on the server " }
                <button class="small" data-testid="mailboxes-refresh" onclick={on_refresh}>{ "refresh" }</button>
            </h2>
            <p class="hint">
                { "What the mail store holds now. SMTP delivers here; POP3 reads from here and removes \
                   what DELE marked only when the session QUITs. Reset puts back the course's messages." }
            </p>
            if let Some(e) = &*error {
                <p class="notice" data-testid="mailboxes-error">{ e }</p>
            }
            if let Some(list) = &*list {
                <table class="mailboxes">
                    <thead><tr><th>{ "Mailbox" }</th><th>{ "Messages" }</th><th>{ "Octets" }</th><th><span class="sr-only">{ "Reset" }</span></th></tr></thead>
                    <tbody>
                        { for list.iter().map(|m| {
                            let address = m.address.clone();
                            let on_reset = on_reset.clone();
                            let onclick = Callback::from(move |_: MouseEvent| on_reset.emit(address.clone()));
                            html! {
                                <tr data-testid="server-mailbox" data-address={m.address.clone()}
                                    data-messages={m.messages.to_string()}>
                                    <td><code>{ &m.address }</code>
                                        if m.locked { <span class="badge note">{ "locked by a POP3 session" }</span> }
                                    </td>
                                    <td>{ m.messages }</td>
                                    <td>{ m.bytes }</td>
                                    <td><button class="small" data-testid="mailbox-reset" onclick={onclick}
                                                disabled={m.locked}>{ "reset" }</button></td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            } else {
                <p class="hint">{ "Asking the server…" }</p>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_listing_reads_and_the_local_store_lists_the_course_mailboxes() {
        let listed: Vec<MailboxSummary> = serde_json::from_str(
            r#"[{"address":"bob@hamburger.edu","messages":2,"bytes":1410,"locked":false}]"#,
        )
        .unwrap();
        assert_eq!(listed[0].messages, 2);
        let local = local_summaries();
        let bob = local
            .iter()
            .find(|m| m.address == "bob@hamburger.edu")
            .unwrap();
        assert_eq!((bob.messages, bob.bytes), (2, 498 + 912));
    }
}
