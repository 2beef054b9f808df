//! HTML the server rendered, set into an element and kept current:
//! `<ServerHtml html node_ref />`.
//!
//! The server writes it into the element as it is, and hydrating leaves it
//! as the server wrote it. A new value (a refresh) is merged into the
//! element's DOM, changing only what differs: a node that keeps its place
//! keeps its identity, so the focus, a text selection and a screen reader's
//! place survive the refresh every 30 s. Setting the inner HTML anew would
//! replace every node and drop them.
//!
//! The element belongs to the page (`node_ref`), and in the browser it has
//! no `inner_html`: the page builds its parts anew with each refresh, and
//! tachys then clears an `inner_html` element before it sets the new value
//! (seen in the browser), which is the replacement this avoids.

use leptos::html::Div;
use leptos::prelude::*;

/// See the module documentation. `html` empty: nothing to set (the page's
/// hydration data leaves the HTML out, `resource::PageJson`).
#[component]
pub fn ServerHtml(html: String, node_ref: NodeRef<Div>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        let _ = node_ref;
        view! { <div class="server-html" inner_html=html></div> }
    }
    #[cfg(not(feature = "ssr"))]
    {
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            if let Some(el) = node_ref.get()
                && !html.is_empty()
            {
                merge::into(&el, &html);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = html;
        view! { <div class="server-html" node_ref=node_ref></div> }
    }
}

/// The merge: nodes are matched by their place among their siblings (the
/// server renders the same structure each time; what changes is text and
/// attributes, now and then a list's length). A node of another kind or tag
/// at a place is replaced, missing ones appended, extra ones removed.
#[cfg(feature = "hydrate")]
mod merge {
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlTemplateElement, Node};

    /// Merges `html` into `target`'s children (appends it to none).
    pub fn into(target: &Element, html: &str) {
        let template = leptos::prelude::document()
            .create_element("template")
            .ok()
            .and_then(|t| t.dyn_into::<HtmlTemplateElement>().ok());
        let Some(template) = template else {
            target.set_inner_html(html);
            return;
        };
        template.set_inner_html(html);
        children(target, &template.content());
    }

    fn children(old: &Node, new: &Node) {
        let fresh = new.child_nodes();
        let present = old.child_nodes();
        for i in 0..fresh.length() {
            let Some(n) = fresh.item(i) else { break };
            match present.item(i) {
                Some(o) if o.node_type() == n.node_type() && o.node_name() == n.node_name() => {
                    node(&o, &n)
                }
                Some(o) => {
                    if let Ok(copy) = n.clone_node_with_deep(true) {
                        let _ = old.replace_child(&copy, &o);
                    }
                }
                None => {
                    if let Ok(copy) = n.clone_node_with_deep(true) {
                        let _ = old.append_child(&copy);
                    }
                }
            }
        }
        while let Some(extra) = present.item(fresh.length()) {
            if old.remove_child(&extra).is_err() {
                break;
            }
        }
    }

    fn node(old: &Node, new: &Node) {
        match (old.dyn_ref::<Element>(), new.dyn_ref::<Element>()) {
            (Some(o), Some(n)) => {
                attributes(o, n);
                children(old, new);
            }
            _ => {
                let value = new.node_value();
                if old.node_value() != value {
                    old.set_node_value(value.as_deref());
                }
            }
        }
    }

    fn attributes(old: &Element, new: &Element) {
        for name in old
            .get_attribute_names()
            .iter()
            .filter_map(|n| n.as_string())
        {
            if !new.has_attribute(&name) {
                let _ = old.remove_attribute(&name);
            }
        }
        for name in new
            .get_attribute_names()
            .iter()
            .filter_map(|n| n.as_string())
        {
            let value = new.get_attribute(&name).unwrap_or_default();
            if old.get_attribute(&name).as_deref() != Some(value.as_str()) {
                let _ = old.set_attribute(&name, &value);
            }
        }
    }
}
