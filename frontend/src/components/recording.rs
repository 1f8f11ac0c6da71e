//! Links to the relay's recording of the current (or last) connection:
//! the transcript as text and the capture as pcapng for Wireshark.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RecordingLinksProps {
    pub recording: Option<AttrValue>,
}

#[function_component(RecordingLinks)]
pub fn recording_links(props: &RecordingLinksProps) -> Html {
    let Some(id) = &props.recording else {
        return Html::default();
    };
    html! {
        <span class="recording-links" data-testid="recording-links">
            { "Recorded: " }
            <a href={format!("/api/recordings/{id}/text")} target="_blank" data-testid="recording-text">{ "transcript" }</a>
            { " · " }
            <a href={format!("/api/recordings/{id}/pcapng")} download={format!("wirelab-{id}.pcapng")}
               data-testid="recording-pcapng">{ "pcapng for Wireshark" }</a>
        </span>
    }
}
