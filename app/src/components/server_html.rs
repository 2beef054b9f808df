//! HTML the server rendered, set into an element and kept current:
//! `<div inner_html=ServerHtml::from(html)>`.
//!
//! The server writes it into the element as it is, and hydrating leaves it
//! as the server wrote it. A new value (a refresh) is merged into the
//! element's DOM, changing only what differs: a node that keeps its place
//! keeps its identity, so the focus, a text selection and a screen reader's
//! place survive the refresh every 30 s. Setting the inner HTML anew would
//! replace every node and drop them.

use std::sync::Arc;

use leptos::tachys::html::attribute::IntoAttributeValue;
use leptos::tachys::html::element::InnerHtmlValue;
use leptos::tachys::renderer::Rndr;
use leptos::tachys::renderer::types::Element;

/// See the module documentation.
#[derive(Clone, PartialEq)]
pub struct ServerHtml(Arc<str>);

impl From<String> for ServerHtml {
    fn from(html: String) -> Self {
        Self(html.into())
    }
}

/// What `view!` asks of an attribute's value.
impl IntoAttributeValue for ServerHtml {
    type Output = Self;

    fn into_attribute_value(self) -> Self {
        self
    }
}

impl InnerHtmlValue for ServerHtml {
    type AsyncOutput = Self;
    type State = (Element, Self);
    type Cloneable = Self;
    type CloneableOwned = Self;

    fn html_len(&self) -> usize {
        self.0.len()
    }

    fn to_html(self, buf: &mut String) {
        buf.push_str(&self.0);
    }

    fn to_template(_buf: &mut String) {}

    fn hydrate<const FROM_SERVER: bool>(self, el: &Element) -> Self::State {
        if !FROM_SERVER {
            Rndr::set_inner_html(el, &self.0);
        }
        (el.clone(), self)
    }

    fn build(self, el: &Element) -> Self::State {
        Rndr::set_inner_html(el, &self.0);
        (el.clone(), self)
    }

    fn rebuild(self, state: &mut Self::State) {
        if self != state.1 {
            #[cfg(feature = "hydrate")]
            merge::into(&state.0, &self.0);
            #[cfg(not(feature = "hydrate"))]
            Rndr::set_inner_html(&state.0, &self.0);
            state.1 = self;
        }
    }

    fn into_cloneable(self) -> Self {
        self
    }

    fn into_cloneable_owned(self) -> Self {
        self
    }

    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> Self {
        self
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

    /// Merges `html` into `target`'s children.
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
        for name in old.get_attribute_names().iter().filter_map(|n| n.as_string()) {
            if !new.has_attribute(&name) {
                let _ = old.remove_attribute(&name);
            }
        }
        for name in new.get_attribute_names().iter().filter_map(|n| n.as_string()) {
            let value = new.get_attribute(&name).unwrap_or_default();
            if old.get_attribute(&name).as_deref() != Some(value.as_str()) {
                let _ = old.set_attribute(&name, &value);
            }
        }
    }
}
