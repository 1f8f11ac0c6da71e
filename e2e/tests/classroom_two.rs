//! The classroom end to end with three people in three browser profiles
//! (their own `--user-data-dir`, so their own cookies): the instructor
//! signs in and makes a class; two students join it from its link in
//! their own browsers and each does two different tasks by sending the
//! traffic from the page; the instructor's grid ticks, without a reload,
//! the right task for the right student and nothing for the other; the
//! CSV, fetched with the instructor's cookie, says the same; and after the
//! relay restarts on the same data directory the grid, reloaded, is
//! unchanged and each student's page still shows their ticks.

use anyhow::{Context, Result, anyhow};
use serde_json::Value;
use std::collections::BTreeMap;
use wirelab_e2e::{Browser, Lab};

const SECRET: &str = "e2e-two-profiles-secret";

/// Select-all in a field, so that typing replaces its text (WebDriver's
/// Control key, then the NULL key releasing it).
const SELECT_ALL: &str = "\u{E009}a\u{E000}";

/// Ada's tasks and Bob's: none in common.
const ADAS: [&str; 2] = ["sockets-upper", "http-400"];
const BOBS: [&str; 2] = ["http-get-page", "http-head"];

/// Every grid cell of the page, `(student id, task) -> status`.
type Grid = BTreeMap<(String, String), String>;

fn open_online(b: &mut Browser, base: &str, path: &str) -> Result<()> {
    b.goto(&format!("{base}{path}"))?;
    b.wait_attribute("relay-status", "data-state", "online")
}

/// Signs in on `/instructor` (after a restart too: the sessions are the
/// running relay's).
fn sign_in(b: &mut Browser, base: &str) -> Result<()> {
    b.goto(&format!("{base}/instructor"))?;
    b.type_text(&b.testid("instructor-secret")?, SECRET)?;
    b.click(&b.testid("instructor-sign-in")?)?;
    b.testid("class-name")?;
    Ok(())
}

/// Joins with the class's link and form, as a student would.
fn join(b: &mut Browser, link: &str, name: &str) -> Result<()> {
    b.goto(link)?;
    let input = b.wait_until("the join form", || b.find("input[name=\"name\"]"))?;
    b.type_text(&input, name)?;
    let submit = b
        .find("button[type=\"submit\"]")?
        .context("the join button")?;
    b.click(&submit)?;
    b.wait_until(&format!("{name} welcomed"), || {
        let text = b.execute("return document.body.innerText", &[])?;
        Ok(text
            .as_str()
            .filter(|t| t.contains("You are in"))
            .map(str::to_string))
    })?;
    Ok(())
}

/// Waits until the page's task panel shows `task` passed.
fn panel_ticks(b: &Browser, task: &str) -> Result<()> {
    let css = format!("[data-testid=\"task\"][data-task=\"{task}\"][data-status=\"passed\"]");
    b.wait_until(&format!("{task} ticked on the student's page"), || {
        b.find(&css)
    })?;
    Ok(())
}

fn select_template(b: &Browser, id: &str) -> Result<()> {
    b.select_option("template-select", id)?;
    let editor = b.testid("editor")?;
    b.wait_until(&format!("template {id} in the editor"), || {
        Ok(b.property(&editor, "value")?.filter(|v| !v.is_empty()))
    })?;
    Ok(())
}

/// Replaces the HTTP editor's text with `text` and sends it.
fn send_http(b: &Browser, text: &str) -> Result<()> {
    let editor = b.testid("editor")?;
    b.type_text(&editor, &format!("{SELECT_ALL}{text}"))?;
    b.wait_until("the editor to hold the new text", || {
        Ok((b.property(&editor, "value")?.as_deref() == Some(text)).then_some(()))
    })?;
    b.click(&b.testid("send")?)
}

/// Ada: a line upper-cased on the sockets page, then a request the web
/// server refuses with 400 (a header line without a colon).
fn ada_does_her_tasks(b: &mut Browser, base: &str) -> Result<()> {
    open_online(b, base, "/sockets")?;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.type_text(&b.testid("editor")?, "hello from ada")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HELLO FROM ADA")?;
    panel_ticks(b, "sockets-upper")?;

    open_online(b, base, "/http")?;
    select_template(b, "bad-header")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "400 Bad Request")?;
    panel_ticks(b, "http-400")
}

/// Bob: a page fetched with a request that has its Host, then the same
/// page's headers only, with HEAD.
fn bob_does_his_tasks(b: &mut Browser, base: &str) -> Result<()> {
    open_online(b, base, "/http")?;
    select_template(b, "someschool")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "200 OK")?;
    panel_ticks(b, "http-get-page")?;
    send_http(
        b,
        "HEAD /somedir/page.html HTTP/1.1\nHost: www.someschool.edu\n\n",
    )?;
    panel_ticks(b, "http-head")
}

/// The grid as the instructor's page shows it.
fn grid(b: &Browser) -> Result<Grid> {
    let cells = b.execute(
        "return [...document.querySelectorAll('[data-testid=\"progress-cell\"]')]
           .map(c => [c.dataset.student, c.dataset.task, c.dataset.status]);",
        &[],
    )?;
    let mut grid = Grid::new();
    for cell in cells.as_array().into_iter().flatten() {
        let field = |i: usize| cell[i].as_str().unwrap_or_default().to_string();
        grid.insert((field(0), field(1)), field(2));
    }
    Ok(grid)
}

/// The tasks the grid shows passed for `student`.
fn passed_by(grid: &Grid, student: &str) -> Vec<String> {
    grid.iter()
        .filter(|((s, _), status)| s == student && *status == "passed")
        .map(|((_, task), _)| task.clone())
        .collect()
}

/// Waits until the grid shows exactly `tasks` passed for `student`.
fn wait_for_ticks(b: &Browser, student: &str, tasks: &[&str]) -> Result<Grid> {
    let mut want: Vec<String> = tasks.iter().map(|t| t.to_string()).collect();
    want.sort();
    let mut last = Grid::new();
    b.wait_until(&format!("{student}'s ticks {want:?} on the grid"), || {
        last = grid(b)?;
        Ok((passed_by(&last, student) == want).then(|| last.clone()))
    })
    .with_context(|| format!("the grid: {last:?}"))
}

/// The student id of the grid's row named `name`.
fn student_id(b: &Browser, name: &str) -> Result<String> {
    b.wait_until(&format!("{name}'s row on the grid"), || {
        let id = b.execute(
            "const row = [...document.querySelectorAll('[data-testid=\"progress-grid\"] tr')]
               .find(tr => tr.querySelector('th')?.textContent.trim() === arguments[0]);
             return row?.querySelector('[data-testid=\"progress-cell\"]')?.dataset.student ?? null;",
            &[name.into()],
        )?;
        Ok(id.as_str().map(str::to_string))
    })
}

/// `progress.csv` fetched by the page, with the instructor's cookie, as
/// `(student id, task) -> status`.
fn csv_grid(b: &Browser, class: &str) -> Result<Grid> {
    let text = b.execute_async(
        "const [href, done] = arguments;
         fetch(href).then(r => r.ok ? r.text() : 'HTTP ' + r.status).then(done, e => done(String(e)));",
        &[format!("/api/classes/{class}/progress.csv").into()],
    )?;
    let text = text.as_str().unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| anyhow!("an empty CSV"))?
        .split(',')
        .collect();
    let mut grid = Grid::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        for task in ADAS.iter().chain(&BOBS) {
            let column = header
                .iter()
                .position(|h| h == task)
                .ok_or_else(|| anyhow!("no {task} column in {text}"))?;
            let status = fields.get(column).copied().unwrap_or_default();
            grid.insert((fields[0].to_string(), task.to_string()), status.into());
        }
    }
    Ok(grid)
}

/// The grid's cells for the four tasks the students did.
fn of_the_tasks(grid: &Grid) -> Grid {
    grid.iter()
        .filter(|((_, task), _)| ADAS.contains(&task.as_str()) || BOBS.contains(&task.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether the instructor's page is the one loaded before (a marker set
/// on its window survives anything but a reload).
fn not_reloaded(b: &Browser) -> Result<bool> {
    Ok(b.execute("return window.twoProfilesMarker === true", &[])? == Value::Bool(true))
}

#[test]
fn two_students_in_their_own_browsers_tick_their_own_cells_live() -> Result<()> {
    let Some(lab) = Lab::start(|c| {
        c.classroom.enabled = true;
        c.classroom.instructor_secret = Some(SECRET.into());
    }) else {
        return Ok(());
    };
    let base = lab.base.clone();
    let mut ada = lab.new_profile()?;
    let mut bob = lab.new_profile()?;
    let mut lab = lab;

    // The instructor makes the class; its grid is empty.
    sign_in(&mut lab.browser, &base)?;
    let teacher = &lab.browser;
    teacher.type_text(&teacher.testid("class-name")?, "Two profiles")?;
    teacher.click(&teacher.testid("class-create")?)?;
    let link = teacher.text(&teacher.testid("join-link")?)?;
    teacher.testid("progress-grid")?;
    let class = teacher
        .attribute(&teacher.testid("progress-csv")?, "href")?
        .and_then(|href| href.split('/').nth(3).map(str::to_string))
        .ok_or_else(|| anyhow!("no class id in the CSV link"))?;
    teacher.execute("window.twoProfilesMarker = true", &[])?;

    // The students join in their own browsers; the grid lists them.
    join(&mut ada, &link, "Ada")?;
    join(&mut bob, &link, "Bob")?;
    let ada_id = student_id(teacher, "Ada")?;
    let bob_id = student_id(teacher, "Bob")?;
    assert_ne!(ada_id, bob_id);
    // Each pass is out of the page's scripts' reach (HttpOnly).
    for b in [&ada, &bob] {
        let cookies = b.execute("return document.cookie", &[])?;
        assert!(!cookies.to_string().contains("wirelab_token"), "{cookies}");
    }

    // Ada's two tasks tick her row alone, live.
    ada_does_her_tasks(&mut ada, &base)?;
    let after_ada = wait_for_ticks(teacher, &ada_id, &ADAS)?;
    assert!(passed_by(&after_ada, &bob_id).is_empty(), "{after_ada:?}");
    // Bob's two tick his row alone; Ada's stays as it was.
    bob_does_his_tasks(&mut bob, &base)?;
    let shown = wait_for_ticks(teacher, &bob_id, &BOBS)?;
    let mut adas: Vec<String> = ADAS.iter().map(|t| t.to_string()).collect();
    adas.sort();
    assert_eq!(passed_by(&shown, &ada_id), adas, "{shown:?}");
    assert!(not_reloaded(teacher)?, "the grid ticked by reloading");

    // The CSV holds the same, cell for cell.
    let csv = csv_grid(teacher, &class)?;
    assert_eq!(csv, of_the_tasks(&shown), "the CSV and the grid");
    for task in ADAS {
        assert_eq!(csv[&(ada_id.clone(), task.to_string())], "passed");
        assert_ne!(csv[&(bob_id.clone(), task.to_string())], "passed");
    }
    for task in BOBS {
        assert_eq!(csv[&(bob_id.clone(), task.to_string())], "passed");
        assert_ne!(csv[&(ada_id.clone(), task.to_string())], "passed");
    }

    // The relay restarts on the same data directory: the reloaded grid is
    // the same, and each student's page still shows their own ticks.
    let mut lab = lab.restarted()?;
    sign_in(&mut lab.browser, &base)?;
    let teacher = &lab.browser;
    let row = format!("[data-testid=\"class-{class}\"] button");
    let chosen = teacher.wait_until("the class in the list", || teacher.find(&row))?;
    teacher.click(&chosen)?;
    let mut again = Grid::new();
    teacher
        .wait_until("the same grid after the restart", || {
            again = grid(teacher)?;
            Ok((again == shown).then_some(()))
        })
        .with_context(|| format!("before: {shown:?}\nafter: {again:?}"))?;
    for (b, mine, theirs) in [
        (&mut ada, "http-400", "http-head"),
        (&mut bob, "http-head", "http-400"),
    ] {
        open_online(b, &base, "/http")?;
        panel_ticks(b, mine)?;
        let other = format!("[data-testid=\"task\"][data-task=\"{theirs}\"]");
        let other = b.find(&other)?.context("the other's task listed")?;
        assert_ne!(
            b.attribute(&other, "data-status")?.as_deref(),
            Some("passed"),
            "{theirs}"
        );
    }
    Ok(())
}
