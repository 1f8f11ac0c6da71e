//! The timeline saved for a lab report: a standalone SVG file, or a PNG
//! drawn from it on a canvas.
//!
//! The file is made from the diagram on screen, so it shows exactly what the
//! student sees: both SVGs (the lanes' header and the body) are copied, each
//! element's computed paint and font written into its `style` (the page's
//! stylesheet does not travel with the file), and the copies stacked in one
//! SVG document on a white background. The caller passes the two drawn
//! `<svg>` elements; nothing here keeps state.

/// What the copies carry of each element's computed style: paint, line and
/// font, everything the stylesheet sets on the timeline.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
const STYLED: [&str; 12] = [
    "fill",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-linejoin",
    "paint-order",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "opacity",
    "visibility",
];

/// One SVG document of `width` × (`head_height` + `body_height`) holding
/// the header's and the body's markup (each a serialized `<svg>` element),
/// the body below the header.
pub fn compose(width: f64, head_height: f64, body_height: f64, head: &str, body: &str) -> String {
    let height = head_height + body_height;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">\
         <rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\
         <g>{head}</g><g transform=\"translate(0,{head_height})\">{body}</g></svg>\n"
    )
}

/// The file name of an export.
pub fn file_name(extension: &str) -> String {
    format!("wirelab-timeline.{extension}")
}

#[cfg(target_arch = "wasm32")]
pub use browser::{save_png, save_svg};

#[cfg(not(target_arch = "wasm32"))]
pub fn save_svg(_head: &web_sys::Element, _body: &web_sys::Element) {}

#[cfg(not(target_arch = "wasm32"))]
pub fn save_png(_head: &web_sys::Element, _body: &web_sys::Element) {}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::{STYLED, compose, file_name};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{Blob, BlobPropertyBag, Element, HtmlCanvasElement, HtmlImageElement, Url};

    /// A PNG is drawn at twice the size, for print, unless that makes a
    /// canvas larger than browsers allow (32,767 px a side).
    const PNG_SCALE: f64 = 2.0;
    const CANVAS_MAX: f64 = 16_000.0;

    /// Saves the diagram as an SVG file.
    pub fn save_svg(head: &Element, body: &Element) {
        let saved = standalone(head, body)
            .and_then(|(svg, _, _)| blob(&svg, "image/svg+xml"))
            .and_then(|b| download(&b, &file_name("svg")));
        if saved.is_none() {
            warn("could not save the timeline as SVG");
        }
    }

    /// Saves the diagram as a PNG file: the SVG drawn on a canvas.
    pub fn save_png(head: &Element, body: &Element) {
        if draw_png(head, body).is_none() {
            warn("could not save the timeline as PNG");
        }
    }

    fn warn(what: &str) {
        web_sys::console::warn_1(&what.into());
    }

    /// The SVG document of the diagram, with its width and height.
    fn standalone(head: &Element, body: &Element) -> Option<(String, f64, f64)> {
        let size = |e: &Element, name: &str| -> Option<f64> { e.get_attribute(name)?.parse().ok() };
        let width = size(body, "width")?;
        let (head_height, body_height) = (size(head, "height")?, size(body, "height")?);
        let svg = compose(
            width,
            head_height,
            body_height,
            &styled_copy(head)?,
            &styled_copy(body)?,
        );
        Some((svg, width, head_height + body_height))
    }

    /// `svg` and its descendants copied, with their computed style written
    /// into each copy, as XML.
    fn styled_copy(svg: &Element) -> Option<String> {
        let window = web_sys::window()?;
        let copy: Element = svg.clone_node_with_deep(true).ok()?.dyn_into().ok()?;
        let originals = svg.query_selector_all("*").ok()?;
        let copies = copy.query_selector_all("*").ok()?;
        let pairs = (0..originals.length())
            .filter_map(|i| Some((originals.item(i)?, copies.item(i)?)))
            .map(|(o, c)| (o.dyn_into::<Element>().ok(), c.dyn_into::<Element>().ok()))
            .chain([(Some(svg.clone()), Some(copy.clone()))]);
        for (original, copied) in pairs {
            let (Some(original), Some(copied)) = (original, copied) else {
                continue;
            };
            let computed = window.get_computed_style(&original).ok()??;
            let style: String = STYLED
                .iter()
                .filter_map(|p| {
                    let value = computed.get_property_value(p).ok()?;
                    (!value.is_empty()).then(|| format!("{p}:{value};"))
                })
                .collect();
            copied.set_attribute("style", &style).ok()?;
        }
        // The page's attributes of behaviour mean nothing in a file.
        for attribute in ["tabindex", "role"] {
            let focusable = copy.query_selector_all(&format!("[{attribute}]")).ok()?;
            for i in 0..focusable.length() {
                if let Some(e) = focusable.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                    let _ = e.remove_attribute(attribute);
                }
            }
        }
        web_sys::XmlSerializer::new()
            .ok()?
            .serialize_to_string(&copy)
            .ok()
    }

    fn blob(text: &str, media_type: &str) -> Option<Blob> {
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let options = BlobPropertyBag::new();
        options.set_type(media_type);
        Blob::new_with_str_sequence_and_options(&parts, &options).ok()
    }

    /// Offers `blob` as a download named `name`.
    fn download(blob: &Blob, name: &str) -> Option<()> {
        let url = Url::create_object_url_with_blob(blob).ok()?;
        let document = web_sys::window()?.document()?;
        let anchor: web_sys::HtmlAnchorElement =
            document.create_element("a").ok()?.dyn_into().ok()?;
        anchor.set_href(&url);
        anchor.set_download(name);
        anchor.click();
        // The download has started; the URL may go once this turn ends.
        gloo_timers::callback::Timeout::new(1_000, move || {
            let _ = Url::revoke_object_url(&url);
        })
        .forget();
        Some(())
    }

    /// Loads the SVG as an image, draws it on a canvas, and saves the
    /// canvas's PNG once the browser has encoded it.
    fn draw_png(head: &Element, body: &Element) -> Option<()> {
        let (svg, width, height) = standalone(head, body)?;
        let url = Url::create_object_url_with_blob(&blob(&svg, "image/svg+xml")?).ok()?;
        let image = HtmlImageElement::new().ok()?;
        let loaded = image.clone();
        let svg_url = url.clone();
        let onload = Closure::once_into_js(move || {
            let _ = Url::revoke_object_url(&svg_url);
            if paint(&loaded, width, height).is_none() {
                warn("could not draw the timeline on a canvas");
            }
        });
        image.set_onload(Some(onload.unchecked_ref()));
        image.set_src(&url);
        Some(())
    }

    fn paint(image: &HtmlImageElement, width: f64, height: f64) -> Option<()> {
        let scale = PNG_SCALE.min(CANVAS_MAX / width.max(height));
        let document = web_sys::window()?.document()?;
        let canvas: HtmlCanvasElement = document.create_element("canvas").ok()?.dyn_into().ok()?;
        canvas.set_width((width * scale).ceil() as u32);
        canvas.set_height((height * scale).ceil() as u32);
        let context: web_sys::CanvasRenderingContext2d =
            canvas.get_context("2d").ok()??.dyn_into().ok()?;
        context
            .draw_image_with_html_image_element_and_dw_and_dh(
                image,
                0.0,
                0.0,
                width * scale,
                height * scale,
            )
            .ok()?;
        let saved = Closure::once_into_js(move |png: Option<Blob>| {
            if png
                .and_then(|png| download(&png, &file_name("png")))
                .is_none()
            {
                warn("the browser did not encode the timeline as PNG");
            }
        });
        canvas.to_blob(saved.unchecked_ref()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_stacks_the_body_under_the_header_on_white() {
        let svg = compose(
            400.0,
            30.0,
            100.0,
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "<svg/>",
        );
        assert!(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns="));
        assert!(svg.contains("width=\"400\" height=\"130\" viewBox=\"0 0 400 130\""));
        assert!(svg.contains("<rect width=\"400\" height=\"130\" fill=\"#ffffff\"/>"));
        let head = svg.find("<g><svg xmlns").expect("the header");
        let body = svg
            .find("<g transform=\"translate(0,30)\"><svg/></g>")
            .expect("the body, moved below the header");
        assert!(head < body);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(file_name("png"), "wirelab-timeline.png");
    }
}
