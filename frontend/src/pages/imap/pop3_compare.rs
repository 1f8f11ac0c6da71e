//! "What POP3 would have done to this mailbox", beside what IMAP does:
//! for each INBOX message the session knows, IMAP's outcome and POP3's
//! (computed by [`wirelab_shared::imap::pop3_compare::compare`]), with the
//! POP3 reader's habit to choose (delete after download, or leave a copy).

use std::rc::Rc;
use web_sys::HtmlSelectElement;
use wirelab_shared::imap::client_view::ClientView;
use wirelab_shared::imap::pop3_compare::{Pop3Habit, compare};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Pop3CompareProps {
    pub view: Rc<ClientView>,
    pub habit: Pop3Habit,
    pub on_habit: Callback<Pop3Habit>,
}

fn habit_key(habit: Pop3Habit) -> &'static str {
    match habit {
        Pop3Habit::DownloadAndDelete => "delete",
        Pop3Habit::LeaveOnServer => "leave",
    }
}

#[function_component(Pop3Compare)]
pub fn pop3_compare(props: &Pop3CompareProps) -> Html {
    let c = compare(&props.view, props.habit);
    let on_change = {
        let on_habit = props.on_habit.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            on_habit.emit(if select.value() == "leave" {
                Pop3Habit::LeaveOnServer
            } else {
                Pop3Habit::DownloadAndDelete
            });
        })
    };
    html! {
        <section class="imap-pop3-compare" data-testid="imap-pop3-compare"
                 data-habit={habit_key(props.habit)} aria-labelledby="imap-pop3-title">
            <h2 id="imap-pop3-title">{ "What POP3 would have done to this mailbox" }</h2>
            <label>{ "The POP3 reader " }
                <select data-testid="imap-pop3-habit" onchange={on_change}>
                    <option value="delete" selected={props.habit == Pop3Habit::DownloadAndDelete}>
                        { "downloads, then deletes (the usual default)" }</option>
                    <option value="leave" selected={props.habit == Pop3Habit::LeaveOnServer}>
                        { "downloads and leaves a copy (remembering UIDLs)" }</option>
                </select>
            </label>
            <div class="compare-summaries">
                <p data-testid="imap-summary"><strong>{ "IMAP: " }</strong>{ &c.imap_summary }</p>
                <p data-testid="pop3-summary"><strong>{ "POP3: " }</strong>{ &c.pop3_summary }</p>
            </div>
            if c.messages.is_empty() {
                <p class="hint">{ "Select INBOX and fetch its flags: each message is compared here." }</p>
            } else {
                <table class="compare">
                    <thead><tr>
                        <th scope="col">{ "#" }</th><th scope="col">{ "Subject" }</th>
                        <th scope="col">{ "IMAP" }</th><th scope="col">{ "POP3" }</th>
                    </tr></thead>
                    <tbody>
                        { for c.messages.iter().map(|m| html! {
                            <tr data-testid="compare-row" data-number={m.number.to_string()}
                                data-pop3-keeps={m.pop3_keeps_it.to_string()}>
                                <td>{ m.number }</td>
                                <td>{ m.subject.clone().unwrap_or_else(|| "(not fetched)".into()) }</td>
                                <td class="imap-outcome">{ &m.imap }</td>
                                <td class="pop3-outcome">{ &m.pop3 }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
