//! Ends the open sessions whose token no longer stands: the class was
//! closed or the student revoked by another process sharing the class
//! store (`wirelab class close` while the relay runs), or between a
//! session's admission and its listing. The relay's own API ends its
//! sessions at once; this sweep, every [`PERIOD`], catches the rest, so a
//! token that stops working stops within a second on open sessions too.

use super::store::{Class, StudentRecord};
use super::token::Claims;
use super::{blocking, standing};
use crate::AppState;
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::task::TaskTracker;

/// How often the open sessions are checked against the store.
pub const PERIOD: Duration = Duration::from_millis(500);

/// Starts the sweep; it ends with the relay.
pub fn start(state: &AppState, tracker: &TaskTracker) {
    let state = state.clone();
    tracker.spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tick.tick() => sweep(&state).await,
            }
        }
    });
}

/// A class as the sweep needs it: the row and its revoked students.
type ClassState = (Option<Class>, HashMap<String, u64>);

/// One pass: two lookups per class with open sessions, however many.
async fn sweep(state: &AppState) {
    let open = state.activity.classroom_sessions();
    if open.is_empty() {
        return;
    }
    let mut classes: Vec<String> = open.iter().map(|(class, ..)| class.clone()).collect();
    classes.sort();
    classes.dedup();
    let store = state.classroom.store.clone();
    let looked_up = blocking(move || {
        let mut found: HashMap<String, ClassState> = HashMap::new();
        for class in classes {
            let row = (store.get(&class)?, store.revoked_in(&class)?);
            found.insert(class, row);
        }
        Ok(found)
    })
    .await;
    let Ok(found) = looked_up else {
        // The store is busy or failing: sessions go on until it answers.
        return;
    };
    for (class, student, issued, stop) in open {
        let Some((row, revoked)) = found.get(&class) else {
            continue;
        };
        let record = revoked.get(&student).map(|at| StudentRecord {
            id: student.clone(),
            name: String::new(),
            joined: 0,
            revoked_at: Some(*at),
        });
        let claims = Claims {
            iat: issued,
            ..Claims::default()
        };
        if let Err(why) = standing(row.clone(), record.as_ref(), &claims) {
            stop.pull(why);
        }
    }
}
