//! A [`Dialogue`] played against a server engine the way the workbench
//! plays it, once for SMTP, POP3 and IMAP: the server's greeting, then
//! each step typed as one line (CR LF added) and the server's answer to
//! it, all through the protocol's follower, with the times a page would
//! give them. The dialogue tests of each protocol check what this returns.

use crate::conversation::{Conversation, Dialogue, Message};
use crate::engine::{Engine, Millis, drain};
use crate::transcript::{FollowedConversation, Follower};

/// What playing a dialogue showed.
pub struct Played<F> {
    /// The follower, as the page's conversation, after the last step.
    pub conversation: FollowedConversation<F>,
    /// Every message, the greeting first.
    pub messages: Vec<Message>,
    /// For each step: the messages that came back once the server had
    /// answered it (client bytes the answer released included).
    pub answers: Vec<Vec<Message>>,
}

/// Plays `dialogue` against `server` through `follower`. Step `i` is typed
/// at `first_step_ms + i` ms and answered half a millisecond later (the
/// server is told `i` ms); the greeting comes at 0.
pub fn play_dialogue<F: Follower>(
    dialogue: &Dialogue,
    server: &mut impl Engine,
    follower: F,
    first_step_ms: f64,
) -> Played<F> {
    let mut conversation = FollowedConversation::new(follower);
    let mut messages = conversation.server_bytes(&drain(server).bytes(), 0.0);
    let mut answers = Vec::new();
    for (i, step) in dialogue.steps.iter().enumerate() {
        let t = first_step_ms + i as f64;
        let line = format!("{step}\r\n");
        messages.extend(conversation.client_bytes(line.as_bytes(), t));
        server.handle_input(line.as_bytes(), Millis(i as u64));
        let answer = conversation.server_bytes(&drain(server).bytes(), t + 0.5);
        messages.extend(answer.iter().cloned());
        answers.push(answer);
    }
    Played {
        conversation,
        messages,
        answers,
    }
}
