//! The class settings form: which catalog targets the class's students
//! may open (all, or those ticked), whether they may type their own
//! targets, the delay emulation's limit, and whether their sessions are
//! recorded. Loaded from `GET /api/classes/{id}/settings` and the catalog
//! (`/api/targets`), saved with `PATCH`; the outcome, or the relay's
//! reason for refusing, is shown. State in [`super::settings`].

use super::settings::{RECORDING_CHOICES, SettingsAction, SettingsForm, Status};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ClassSettingsProps {
    pub class: String,
}

#[function_component(ClassSettings)]
pub fn class_settings(props: &ClassSettingsProps) -> Html {
    let form = use_reducer(SettingsForm::default);
    {
        let dispatch = form.dispatcher();
        use_effect_with(props.class.clone(), move |class| {
            load(class.clone(), dispatch)
        });
    }
    let onsubmit = {
        let (form, class) = (form.clone(), props.class.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            save(&class, &form);
        })
    };
    // Nothing to save before the settings are read: the form would hold
    // defaults, not the class's.
    let cannot_save = form.status == Status::Saving || form.saved.is_none();
    let dispatch = form.dispatcher();
    html! {
        <section class="class-settings" aria-labelledby="class-settings-title">
            <h3 id="class-settings-title">{ "Settings" }</h3>
            <form data-testid="class-settings" {onsubmit}>
                { targets_fieldset(&form, &dispatch) }
                { checkbox("settings-custom", "Students may type their own hosts and ports \
                    (the relay's policy still decides which)", form.draft.custom_targets,
                    on_checked(&dispatch, SettingsAction::CustomTargets)) }
                { delay_field(&form, &dispatch) }
                { recordings_field(&form, &dispatch) }
                <button type="submit" data-testid="settings-save" disabled={cannot_save}>
                    { "Save the settings" }</button>
                { status_line(&form.status) }
            </form>
        </section>
    }
}

/// Reads the catalog's names and the class's settings.
fn load(class: String, dispatch: UseReducerDispatcher<SettingsForm>) {
    yew::platform::spawn_local(async move {
        if let Ok(targets) = crate::api::targets().await {
            let names = targets.into_iter().map(|t| t.name).collect();
            dispatch.dispatch(SettingsAction::Catalog(names));
        }
        dispatch.dispatch(match super::api::settings(&class).await {
            Ok(saved) => SettingsAction::Loaded(saved),
            Err(e) => SettingsAction::LoadFailed(e.message),
        });
    });
}

fn save(class: &str, form: &UseReducerHandle<SettingsForm>) {
    let dispatch = form.dispatcher();
    let change = match form.change() {
        Ok(change) => change,
        Err(why) => return dispatch.dispatch(SettingsAction::Failed(why)),
    };
    dispatch.dispatch(SettingsAction::Saving);
    let class = class.to_string();
    yew::platform::spawn_local(async move {
        dispatch.dispatch(match super::api::change_settings(&class, &change).await {
            Ok(saved) => SettingsAction::Saved(saved),
            Err(e) => SettingsAction::Failed(e.message),
        });
    });
}

/// A checkbox's `onchange`: dispatches `action` of its new state.
fn on_checked(
    dispatch: &UseReducerDispatcher<SettingsForm>,
    action: impl Fn(bool) -> SettingsAction + 'static,
) -> Callback<Event> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: Event| {
        if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
            dispatch.dispatch(action(input.checked()));
        }
    })
}

/// A text field's `oninput`: dispatches `action` of what it holds now, so
/// the form is current however it is left (a click on Save included).
fn on_typed(
    dispatch: &UseReducerDispatcher<SettingsForm>,
    action: impl Fn(String) -> SettingsAction + 'static,
) -> Callback<InputEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: InputEvent| {
        if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
            dispatch.dispatch(action(input.value()));
        }
    })
}

/// A select's `onchange`: dispatches `action` of its value.
fn on_chosen(
    dispatch: &UseReducerDispatcher<SettingsForm>,
    action: impl Fn(String) -> SettingsAction + 'static,
) -> Callback<Event> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: Event| {
        if let Some(select) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
            dispatch.dispatch(action(select.value()));
        }
    })
}

fn checkbox(id: &str, label: &str, checked: bool, onchange: Callback<Event>) -> Html {
    html! {
        <p>
            <input type="checkbox" id={id.to_string()} data-testid={id.to_string()}
                {checked} {onchange} />
            <label for={id.to_string()}>{ label }</label>
        </p>
    }
}

fn targets_fieldset(form: &SettingsForm, dispatch: &UseReducerDispatcher<SettingsForm>) -> Html {
    let draft = &form.draft;
    let all = on_checked(dispatch, SettingsAction::AllTargets);
    html! {
        <fieldset data-testid="settings-targets">
            <legend>{ "Catalog targets students may open" }</legend>
            { checkbox("settings-all-targets", "All of them", draft.all_targets, all) }
            if !draft.all_targets {
                <div class="target-choices">
                { for form.catalog.iter().map(|name| {
                    let owned = name.clone();
                    let onchange = on_checked(dispatch, move |on| SettingsAction::Target(owned.clone(), on));
                    checkbox(&format!("settings-target-{name}"), name, draft.targets.contains(name), onchange)
                }) }
                </div>
            }
        </fieldset>
    }
}

fn delay_field(form: &SettingsForm, dispatch: &UseReducerDispatcher<SettingsForm>) -> Html {
    let relay_max = form.saved.as_ref().map_or(0, |s| s.relay_max_delay_ms);
    html! {
        <p>
            <label for="settings-max-delay">{ "Largest delay the pages may emulate (ms)" }</label>
            <input id="settings-max-delay" data-testid="settings-max-delay" inputmode="numeric"
                value={form.draft.max_delay_ms.clone()} aria-describedby="settings-max-delay-hint"
                oninput={on_typed(dispatch, SettingsAction::MaxDelay)} />
            <small id="settings-max-delay-hint">
                { format!(" Empty: the relay's limit ({relay_max} ms); 0 turns delay emulation off.") }
            </small>
        </p>
    }
}

fn recordings_field(form: &SettingsForm, dispatch: &UseReducerDispatcher<SettingsForm>) -> Html {
    // The relay's own mode, in the words of its choice.
    let relay_mode = form.saved.as_ref().map_or("", |s| {
        RECORDING_CHOICES
            .iter()
            .find(|(value, _)| *value == s.relay_recordings)
            .map_or(s.relay_recordings.as_str(), |(_, label)| label)
    });
    html! {
        <p>
            <label for="settings-recordings">{ "Record the students' sessions" }</label>
            <select id="settings-recordings" data-testid="settings-recordings"
                onchange={on_chosen(dispatch, SettingsAction::Recordings)}>
                { for RECORDING_CHOICES.iter().map(|(value, label)| {
                    let label = if value.is_empty() {
                        format!("{label} ({relay_mode})")
                    } else {
                        (*label).to_string()
                    };
                    html! {
                        <option value={*value} selected={form.draft.recordings == *value}>{ label }</option>
                    }
                }) }
            </select>
        </p>
    }
}

fn status_line(status: &Status) -> Html {
    let (state, text) = match status {
        Status::Loading => ("loading", "Reading the settings…".to_string()),
        Status::Ready => return Html::default(),
        Status::Saving => ("saving", "Saving…".to_string()),
        Status::Saved => (
            "saved",
            "Saved: every student's next session follows them.".to_string(),
        ),
        Status::Failed(why) => ("failed", format!("Not saved: {why}")),
        Status::Unreadable(why) => ("unreadable", format!("Cannot read the settings: {why}")),
    };
    html! {
        <p role="status" data-testid="settings-outcome" data-state={state}
            class={if matches!(status, Status::Failed(_) | Status::Unreadable(_)) { "notice" } else { "outcome" }}>{ text }</p>
    }
}
