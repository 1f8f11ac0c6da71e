//! Links to the relay's recording of the current (or last) connection:
//! the transcript as text and the capture as pcapng for Wireshark. They
//! work from `connected` on: while the connection is open the relay
//! serves what it has recorded so far, so each click fetches it anew.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RecordingLinksProps {
    pub recording: Option<AttrValue>,
}

/// What a link gives before the connection ends.
const SO_FAR: &str =
    "While the connection is open, what is recorded so far: open it again for more.";

#[function_component(RecordingLinks)]
pub fn recording_links(props: &RecordingLinksProps) -> Html {
    let Some(id) = &props.recording else {
        return Html::default();
    };
    html! {
        <span class="recording-links" data-testid="recording-links" title={SO_FAR}>
            { "Recorded: " }
            <a href={format!("/api/recordings/{id}/text")} target="_blank" data-testid="recording-text">{ "transcript" }</a>
            { " · " }
            <a href={format!("/api/recordings/{id}/pcapng")} download={format!("wirelab-{id}.pcapng")}
               data-testid="recording-pcapng">{ "pcapng for Wireshark" }</a>
        </span>
    }
}
