//! The class settings form on `/instructor`, its state: what
//! `GET /api/classes/{id}/settings` holds (the catalog targets students may
//! open, whether they may type their own targets, the delay emulation's
//! limit, whether their sessions are recorded), the instructor's edits,
//! and the `PATCH` body made from them, with the outcome of saving. A plain
//! reducer with native tests; the view is [`super::settings_form`].

use serde::Deserialize;
use serde_json::{Value, json};
use std::rc::Rc;
use yew::Reducible;

/// The recording modes a class may choose, as the relay spells them, with
/// their labels; the empty one leaves it to the relay's `[recordings] mode`.
pub const RECORDING_CHOICES: &[(&str, &str)] = &[
    ("", "as the relay does"),
    ("off", "never"),
    ("on_request", "when the page asks"),
    ("always", "always"),
];

/// The relay's answer (also the answer to a `PATCH`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SavedSettings {
    /// Catalog targets students may open; empty means all.
    pub targets: Vec<String>,
    pub custom_targets: bool,
    /// `None`: the relay's limit.
    #[serde(default)]
    pub max_delay_ms: Option<u64>,
    /// `None`: the relay's mode.
    #[serde(default)]
    pub recordings: Option<String>,
    pub relay_max_delay_ms: u64,
    pub relay_recordings: String,
}

/// The form as the instructor left it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draft {
    pub all_targets: bool,
    /// The ticked targets, in catalog order (used when not `all_targets`).
    pub targets: Vec<String>,
    pub custom_targets: bool,
    /// As typed; empty: the relay's limit.
    pub max_delay_ms: String,
    /// One of [`RECORDING_CHOICES`].
    pub recordings: String,
}

impl Draft {
    fn of(saved: &SavedSettings) -> Draft {
        Draft {
            all_targets: saved.targets.is_empty(),
            targets: saved.targets.clone(),
            custom_targets: saved.custom_targets,
            max_delay_ms: saved
                .max_delay_ms
                .map(|d| d.to_string())
                .unwrap_or_default(),
            recordings: saved.recordings.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Loading,
    Ready,
    Saving,
    Saved,
    /// Not saved, and why (the relay's reason, or the form's).
    Failed(String),
    /// The settings could not be read, and why.
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SettingsForm {
    /// The catalog's target names, in its order.
    pub catalog: Vec<String>,
    /// What the relay last said the settings are.
    pub saved: Option<SavedSettings>,
    pub draft: Draft,
    pub status: Status,
}

pub enum SettingsAction {
    Catalog(Vec<String>),
    Loaded(SavedSettings),
    LoadFailed(String),
    /// Saving failed, with the reason.
    Failed(String),
    AllTargets(bool),
    Target(String, bool),
    CustomTargets(bool),
    MaxDelay(String),
    Recordings(String),
    Saving,
    Saved(SavedSettings),
}

impl SettingsForm {
    pub fn apply(&mut self, action: SettingsAction) {
        match action {
            SettingsAction::Catalog(names) => self.catalog = names,
            SettingsAction::Loaded(saved) => {
                self.draft = Draft::of(&saved);
                self.saved = Some(saved);
                self.status = Status::Ready;
            }
            SettingsAction::LoadFailed(reason) => self.status = Status::Unreadable(reason),
            SettingsAction::Failed(reason) => self.status = Status::Failed(reason),
            SettingsAction::Saving => self.status = Status::Saving,
            SettingsAction::Saved(saved) => {
                self.draft = Draft::of(&saved);
                self.saved = Some(saved);
                self.status = Status::Saved;
            }
            edit => self.edit(edit),
        }
    }

    /// An edit of the form: the last outcome no longer describes it.
    fn edit(&mut self, action: SettingsAction) {
        let draft = &mut self.draft;
        match action {
            SettingsAction::AllTargets(all) => draft.all_targets = all,
            SettingsAction::Target(name, true) if !draft.targets.contains(&name) => {
                draft.targets.push(name);
                let order = |t: &String| self.catalog.iter().position(|c| c == t);
                draft.targets.sort_by_key(order);
            }
            SettingsAction::Target(name, false) => draft.targets.retain(|t| *t != name),
            SettingsAction::CustomTargets(allowed) => draft.custom_targets = allowed,
            SettingsAction::MaxDelay(typed) => draft.max_delay_ms = typed,
            SettingsAction::Recordings(mode) => draft.recordings = mode,
            _ => return,
        }
        if matches!(self.status, Status::Saved | Status::Failed(_)) {
            self.status = Status::Ready;
        }
    }

    /// The `PATCH` body for the draft: every field, so what is saved is
    /// what the form shows. `Err` says what the form must fix first.
    pub fn change(&self) -> Result<Value, String> {
        let draft = &self.draft;
        let targets = if draft.all_targets {
            Vec::new()
        } else if draft.targets.is_empty() {
            // The relay reads an empty list as "all of them".
            return Err("choose at least one target, or allow all of them".into());
        } else {
            draft.targets.clone()
        };
        let typed = draft.max_delay_ms.trim();
        let max_delay_ms = if typed.is_empty() {
            None
        } else {
            Some(typed.parse::<u64>().map_err(|_| {
                format!("the delay limit {typed:?} is not a whole number of milliseconds")
            })?)
        };
        let recordings = (!draft.recordings.is_empty()).then(|| draft.recordings.clone());
        Ok(json!({
            "targets": targets,
            "custom_targets": draft.custom_targets,
            "max_delay_ms": max_delay_ms,
            "recordings": recordings,
        }))
    }
}

impl Reducible for SettingsForm {
    type Action = SettingsAction;

    fn reduce(self: Rc<Self>, action: SettingsAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(body: Value) -> SavedSettings {
        serde_json::from_value(body).unwrap()
    }

    fn loaded() -> SettingsForm {
        let mut form = SettingsForm::default();
        form.apply(SettingsAction::Catalog(vec![
            "http".into(),
            "smtp".into(),
            "upper-tcp".into(),
        ]));
        form.apply(SettingsAction::Loaded(saved(json!({
            "targets": [], "custom_targets": false,
            "relay_max_delay_ms": 2000, "relay_recordings": "on_request"
        }))));
        form
    }

    #[test]
    fn the_form_starts_from_the_relays_settings() {
        let form = loaded();
        assert_eq!(form.status, Status::Ready);
        assert!(form.draft.all_targets);
        assert_eq!(form.draft.max_delay_ms, "");
        assert_eq!(form.draft.recordings, "");
        let mut limited = SettingsForm::default();
        limited.apply(SettingsAction::Loaded(saved(json!({
            "targets": ["smtp"], "custom_targets": true, "max_delay_ms": 50,
            "recordings": "always", "relay_max_delay_ms": 2000, "relay_recordings": "off"
        }))));
        let draft = &limited.draft;
        assert!(!draft.all_targets);
        assert_eq!(draft.targets, ["smtp"]);
        assert!(draft.custom_targets);
        assert_eq!(draft.max_delay_ms, "50");
        assert_eq!(draft.recordings, "always");
    }

    #[test]
    fn the_patch_holds_every_field_as_the_form_shows_it() {
        let mut form = loaded();
        assert_eq!(
            form.change().unwrap(),
            json!({"targets": [], "custom_targets": false, "max_delay_ms": null, "recordings": null})
        );
        form.apply(SettingsAction::AllTargets(false));
        form.apply(SettingsAction::Target("upper-tcp".into(), true));
        form.apply(SettingsAction::Target("http".into(), true));
        form.apply(SettingsAction::Target("http".into(), true));
        form.apply(SettingsAction::CustomTargets(true));
        form.apply(SettingsAction::MaxDelay(" 250 ".into()));
        form.apply(SettingsAction::Recordings("always".into()));
        assert_eq!(
            form.change().unwrap(),
            json!({"targets": ["http", "upper-tcp"], "custom_targets": true,
                   "max_delay_ms": 250, "recordings": "always"})
        );
        form.apply(SettingsAction::Target("http".into(), false));
        assert_eq!(form.change().unwrap()["targets"], json!(["upper-tcp"]));
    }

    #[test]
    fn the_form_refuses_what_the_relay_would_read_otherwise() {
        let mut form = loaded();
        form.apply(SettingsAction::AllTargets(false));
        let refused = form.change().unwrap_err();
        assert!(refused.contains("at least one target"), "{refused}");
        form.apply(SettingsAction::AllTargets(true));
        form.apply(SettingsAction::MaxDelay("fast".into()));
        let refused = form.change().unwrap_err();
        assert!(refused.contains("\"fast\""), "{refused}");
    }

    #[test]
    fn saving_shows_its_outcome_until_the_next_edit() {
        let mut form = loaded();
        form.apply(SettingsAction::Saving);
        form.apply(SettingsAction::Failed(
            "max_delay_ms 9999 is more than the relay allows".into(),
        ));
        assert!(matches!(&form.status, Status::Failed(r) if r.contains("relay allows")));
        form.apply(SettingsAction::MaxDelay("10".into()));
        assert_eq!(form.status, Status::Ready);
        form.apply(SettingsAction::Saving);
        form.apply(SettingsAction::Saved(saved(json!({
            "targets": [], "custom_targets": false, "max_delay_ms": 10,
            "relay_max_delay_ms": 2000, "relay_recordings": "on_request"
        }))));
        assert_eq!(form.status, Status::Saved);
        assert_eq!(form.saved.as_ref().unwrap().max_delay_ms, Some(10));
        assert_eq!(form.draft.max_delay_ms, "10");
    }

    #[test]
    fn settings_that_cannot_be_read_say_so_until_they_are() {
        let mut form = SettingsForm::default();
        assert_eq!(form.status, Status::Loading);
        form.apply(SettingsAction::LoadFailed(
            "there is no class \"c-9\"".into(),
        ));
        form.apply(SettingsAction::MaxDelay("5".into()));
        assert!(matches!(&form.status, Status::Unreadable(r) if r.contains("no class")));
    }
}
