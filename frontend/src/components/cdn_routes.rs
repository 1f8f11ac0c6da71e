//! Content distribution, seen from two regions: for a client in New York
//! (127.0.0.1) and one in Paris (127.1.0.7), which CDN replica served each
//! image of the origin's base page www.sina.com/sports/, and why the CDN's
//! DNS server chose it. The relay plays each client
//! (`GET /api/cdn/route?from=...`); without a relay there is no CDN to ask,
//! and the section says so.

use crate::relay_info::use_relay_info;
use wirelab_shared::http::cdn_route::{ObjectRoute, RouteReport};
use yew::prelude::*;

/// The clients shown: a label and the address the relay plays them from.
const CLIENTS: [(&str, &str); 2] = [("New York", "127.0.0.1"), ("Paris", "127.1.0.7")];

#[function_component(CdnRoutes)]
pub fn cdn_routes() -> Html {
    let info = use_relay_info();
    let online = info.is_online() && info.targets.iter().any(|t| t.name == "cdn-ny");
    let reports = use_state(Vec::<RouteReport>::new);
    let error = use_state(|| None::<String>);
    let on_trace = {
        let reports = reports.clone();
        let error = error.clone();
        Callback::from(move |_: MouseEvent| {
            let reports = reports.clone();
            let error = error.clone();
            yew::platform::spawn_local(async move {
                let mut found = Vec::new();
                for (_, address) in CLIENTS {
                    let path = format!("/api/cdn/route?from={address}");
                    match crate::api::get_json::<RouteReport>(&path).await {
                        Ok(report) => found.push(report),
                        Err(e) => {
                            error.set(Some(e.message));
                            return;
                        }
                    }
                }
                error.set(None);
                reports.set(found);
            });
        })
    };
    html! {
        <section class="cdn-routes" data-testid="cdn-routes">
            <h2>{ "Which CDN replica served which object, and why" }</h2>
            <p class="hint">
                { "The origin's page www.sina.com/sports/ names its images by the CDN's name \
                   (http://www.cdn.com/www.sina.com/...). The CDN's DNS server answers each client with \
                   the replica nearest to the address its query came from: 127.0.x.x is New York, \
                   127.1.x.x Paris. The relay fetches the page as a client in each region." }
            </p>
            if online {
                <button data-testid="cdn-trace" onclick={on_trace}>{ "Fetch the page from New York and from Paris" }</button>
            } else {
                <p class="notice" data-testid="cdn-offline">{ "The CDN's servers run on the relay; connect to one to follow the images." }</p>
            }
            if let Some(e) = &*error {
                <p class="notice" data-testid="cdn-error">{ e }</p>
            }
            if !reports.is_empty() {
                <table data-testid="cdn-table">
                    <thead><tr>
                        <th>{ "client" }</th><th>{ "object" }</th><th>{ "DNS gave" }</th>
                        <th>{ "answered by (Server header)" }</th><th>{ "why" }</th>
                    </tr></thead>
                    <tbody>
                        { for reports.iter().flat_map(|r| r.objects.iter().map(move |o| row(r, o))) }
                    </tbody>
                </table>
            }
        </section>
    }
}

fn row(report: &RouteReport, object: &ObjectRoute) -> Html {
    let region = CLIENTS
        .iter()
        .find(|(_, address)| *address == report.client)
        .map_or("", |(label, _)| *label);
    let looked_up = match &object.alias_of {
        Some(target) => format!("{} → CNAME {target}", object.host),
        None => object.host.clone(),
    };
    let gave = match (&object.address, &object.replica) {
        (Some(address), Some(replica)) => format!("{address} ({replica})"),
        (Some(address), None) => address.clone(),
        _ => "—".into(),
    };
    let answered = match (&object.status, &object.server, &object.error) {
        (_, _, Some(e)) => e.clone(),
        (Some(status), Some(server), None) => format!("{status}, {server}"),
        (Some(status), None, None) => status.to_string(),
        _ => "—".into(),
    };
    html! {
        <tr data-testid="cdn-row" data-client={report.client.clone()} data-url={object.url.clone()}
            data-replica={object.replica.clone().unwrap_or_default()}>
            <td>{ format!("{region} {}", report.client) }</td>
            <td><code>{ object.url.clone() }</code><br /><span class="hint">{ looked_up }</span></td>
            <td>{ gave }</td>
            <td data-testid="cdn-server">{ answered }</td>
            <td class="hint">{ object.why.clone() }</td>
        </tr>
    }
}
