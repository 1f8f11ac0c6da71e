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
