//! The relay answers 404 to paths the page's router does not know, from the
//! list in `wirelab_shared::pages`; the router and that list must agree, or
//! a page would be served with status 404 (or a typo with 200).

use wirelab_frontend::route::Route;
use wirelab_shared::pages::{PAGE_PATHS, is_page_path};
use yew_router::Routable;

#[test]
fn the_relay_knows_every_route_of_the_page() {
    let not_found = Route::NotFound.to_path();
    let mut routes: Vec<&str> = Route::routes()
        .into_iter()
        .filter(|path| *path != not_found)
        .collect();
    routes.sort_unstable();
    let mut listed = PAGE_PATHS.to_vec();
    listed.sort_unstable();
    assert_eq!(routes, listed);
    for path in routes {
        assert!(Route::recognize(path).is_some_and(|route| route != Route::NotFound));
        assert!(is_page_path(path), "{path}");
    }
    assert!(!is_page_path(&not_found));
}

/// `index.html` chooses the WASM module from the path before any Rust runs;
/// its table must give every route the module that renders it, or the page
/// would load a module that sends it elsewhere.
#[test]
fn the_shell_loads_each_route_s_own_module() {
    use wirelab_frontend::bundle::Bundle;
    let shell = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../index.html"))
        .expect("index.html at the workspace root");
    let table = shell
        .lines()
        .find_map(|line| line.trim().strip_prefix("const modules = "))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("index.html's `const modules = {...};` line");
    let table: std::collections::BTreeMap<String, String> =
        serde_json::from_str(table).expect("the table is JSON");
    let mut paths: Vec<&str> = table.keys().map(String::as_str).collect();
    paths.sort_unstable();
    let mut listed = PAGE_PATHS.to_vec();
    listed.sort_unstable();
    assert_eq!(paths, listed, "one entry per page path");
    for (path, module) in &table {
        let route = Route::recognize(path).expect("a route");
        assert_eq!(module, Bundle::of(&route).name(), "{path}");
    }
    // Any other path is the 404 page, which the start page's module has.
    assert_eq!(Bundle::of(&Route::NotFound), Bundle::Home);
}
