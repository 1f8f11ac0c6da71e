//! The instructor's classes: the list (open ones first), a form to make
//! one, and the chosen class's view.

use super::api::{self, ClassInfo};
use super::class_view::ClassView;
use yew::prelude::*;

#[function_component(Classes)]
pub fn classes() -> Html {
    let list = use_state(Vec::<ClassInfo>::new);
    let chosen = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    let reloads = use_state(|| 0u64);
    {
        let (list, error) = (list.clone(), error.clone());
        use_effect_with(*reloads, move |_| {
            yew::platform::spawn_local(async move {
                match api::classes().await {
                    Ok(found) => list.set(found),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        });
    }
    let reload = {
        let reloads = reloads.clone();
        Callback::from(move |_: ()| reloads.set(*reloads + 1))
    };
    let on_made = {
        let (chosen, reload) = (chosen.clone(), reload.clone());
        Callback::from(move |class: ClassInfo| {
            chosen.set(Some(class.id));
            reload.emit(());
        })
    };
    let shown = chosen
        .as_ref()
        .and_then(|id| list.iter().find(|c| &c.id == id).cloned());
    html! {
        <>
            <NewClass on_made={on_made} on_error={set_error(&error)} />
            if let Some(e) = &*error {
                <p class="notice" role="alert" data-testid="classes-error">{ e }</p>
            }
            <h2>{ "Classes" }</h2>
            <ul class="classes" data-testid="classes">
                { for list.iter().map(|c| class_row(c, &chosen)) }
            </ul>
            if let Some(class) = shown {
                <ClassView key={class.id.clone()} class={class.clone()} on_closed={reload} />
            }
        </>
    }
}

fn set_error(error: &UseStateHandle<Option<String>>) -> Callback<String> {
    let error = error.clone();
    Callback::from(move |e: String| error.set(Some(e)))
}

/// One class in the list, with the button that shows it.
fn class_row(class: &ClassInfo, chosen: &UseStateHandle<Option<String>>) -> Html {
    let onclick = {
        let (chosen, id) = (chosen.clone(), class.id.clone());
        Callback::from(move |_: MouseEvent| chosen.set(Some(id.clone())))
    };
    let state = if class.closed { "closed" } else { "open" };
    html! {
        <li data-testid={format!("class-{}", class.id)} data-state={state}>
            <button class="link" {onclick}>{ &class.name }</button>
            { format!(" ({state})") }
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct NewClassProps {
    on_made: Callback<ClassInfo>,
    on_error: Callback<String>,
}

/// The form that makes a class (all targets; settings come later).
#[function_component(NewClass)]
fn new_class(props: &NewClassProps) -> Html {
    let name = use_node_ref();
    let onsubmit = {
        let (name, made, failed) = (name.clone(), props.on_made.clone(), props.on_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(input) = name.cast::<web_sys::HtmlInputElement>() else {
                return;
            };
            let typed = input.value();
            input.set_value("");
            let (made, failed) = (made.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                match api::create_class(&typed).await {
                    Ok(class) => made.emit(class),
                    Err(e) => failed.emit(e.message),
                }
            });
        })
    };
    html! {
        <form class="new-class" {onsubmit}>
            <label for="class-name">{ "New class" }</label>
            <input id="class-name" data-testid="class-name" ref={name} required=true
                maxlength="100" placeholder="Lab 3" />
            <button type="submit" data-testid="class-create">{ "Make the class" }</button>
        </form>
    }
}
