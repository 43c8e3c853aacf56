"""Streamlit's own words in the portal's language.

Streamlit writes the words of its own widgets in English, with no option to change them: a table's toolbar
(下载 CSV, 搜索, 全屏) and column menu, a table editor's 添加行, a text box's "Press Enter to apply", a select
box's "No results", a date picker's month names. A small script in the page (installed once per browser tab,
its words renewed every run) replaces those words where Streamlit draws them — text nodes and the
`aria-label` / `title` / `placeholder` of Streamlit's own elements — and puts the English back when the
person switches to English. It never touches what a user typed or the portal wrote: text inside Markdown,
text and code elements, the table cells, select options and form fields' values is left as it is. The words
are catalogue entries (`chrome.*`), English as Streamlit writes it, the other language as the portal says it.
"""
from __future__ import annotations

import json

import streamlit as st

from portal.i18n import translate

# The catalogue keys of Streamlit's words (the English catalogue holds Streamlit's exact text).
CHROME_KEYS = (
    # a table's toolbar, its search and its full-screen view
    "chrome.show_hide_columns", "chrome.download_csv", "chrome.search", "chrome.fullscreen",
    "chrome.close_fullscreen", "chrome.exit_fullscreen", "chrome.close_search", "chrome.next_result",
    "chrome.previous_result", "chrome.no_data", "chrome.no_content",
    # a table editor's toolbar
    "chrome.add_row", "chrome.delete_rows", "chrome.clear_selection", "chrome.select_all",
    # a column's menu and its formats
    "chrome.sort_ascending", "chrome.sort_descending", "chrome.hide_column", "chrome.pin_column",
    "chrome.unpin_column", "chrome.autosize", "chrome.format", "chrome.copy_column_name",
    "chrome.column_menu", "chrome.automatic", "chrome.localized", "chrome.plain", "chrome.percent",
    "chrome.dollar", "chrome.euro", "chrome.yen", "chrome.accounting", "chrome.compact", "chrome.scientific",
    "chrome.engineering", "chrome.distance", "chrome.calendar", "chrome.duration",
    # text boxes, select boxes, number and password fields
    "chrome.enter_apply", "chrome.enter_submit", "chrome.ctrl_enter_apply", "chrome.ctrl_enter_submit",
    "chrome.cmd_enter_apply", "chrome.cmd_enter_submit", "chrome.no_results", "chrome.clear_all",
    "chrome.clear_value", "chrome.select", "chrome.increment", "chrome.decrement", "chrome.show_password",
    "chrome.hide_password", "chrome.open_menu", "chrome.open", "chrome.close", "chrome.skip_to_main",
    # the date picker
    "chrome.previous_month", "chrome.next_month", "chrome.month_1", "chrome.month_2", "chrome.month_3",
    "chrome.month_4", "chrome.month_5", "chrome.month_6", "chrome.month_7", "chrome.month_8", "chrome.month_9",
    "chrome.month_10", "chrome.month_11", "chrome.month_12", "chrome.day_su", "chrome.day_mo", "chrome.day_tu",
    "chrome.day_we", "chrome.day_th", "chrome.day_fr", "chrome.day_sa",
    # the app's own status and menu
    "chrome.running", "chrome.stop", "chrome.rerun", "chrome.print", "chrome.settings", "chrome.about",
    "chrome.clear_cache",
)


def chrome_words(lang: str) -> dict[str, str]:
    """Streamlit's English words → the words of `lang` (none to replace in English)."""
    if lang == "en":
        return {}
    return {translate(key, "en"): translate(key, lang) for key in CHROME_KEYS}


# Installed once per tab (window.__portalChrome); each run sends the words of the chosen language. What was
# replaced is remembered (node → its English), so English comes back when the person switches to English.
_SCRIPT = """<script>
(() => {
  const w = window;
  w.__portalWords = %s;
  if (!w.__portalChrome) {
    const ATTRS = ["aria-label", "title", "placeholder"];
    const KEEP = "[data-testid='stMarkdown'],[data-testid='stText'],[data-testid='stCode'],"
      + "[data-testid='stMarkdownContainer'],[role='gridcell'],[role='option'],textarea,"
      + "[data-testid='stCaptionContainer'],[data-testid='stAlert'],[data-testid='stHeading']";
    const texts = new Map();            // text node -> its English
    const attrs = new Map();            // element -> {attribute: its English}
    const kept = (node) => {         // a tooltip's words are Streamlit's (its toolbar's) or the portal's own help
      const element = node.nodeType === 1 ? node : node.parentElement;
      if (!element || element.closest("script, style, [data-testid='stHtml']") !== null) return true;
      return element.closest(KEEP) !== null && element.closest("[data-testid='stTooltipContent']") === null;
    };
    const month = /^(January|February|March|April|May|June|July|August|September|October|November|December) (\\d{4})$/;
    const said = (english) => {
      const words = w.__portalWords;
      const trimmed = english.trim();
      if (!trimmed) return null;
      if (Object.prototype.hasOwnProperty.call(words, trimmed)) return english.replace(trimmed, words[trimmed]);
      const m = trimmed.match(month);
      if (m && words[m[1]]) return english.replace(trimmed, m[2] + "年" + words[m[1]]);
      return null;
    };
    const text = (node) => {
      if (kept(node)) return;
      const english = texts.has(node) && node.nodeValue === node.__portalSaid ? texts.get(node) : node.nodeValue;
      const replaced = said(english);
      if (replaced === null) {
        if (texts.has(node) && node.nodeValue === node.__portalSaid) node.nodeValue = english;
        texts.delete(node);
        return;
      }
      texts.set(node, english);
      node.__portalSaid = replaced;
      if (node.nodeValue !== replaced) node.nodeValue = replaced;
    };
    const element = (el) => {
      if (kept(el)) return;
      for (const name of ATTRS) {
        if (!el.hasAttribute(name)) continue;
        const known = attrs.get(el) || {};
        const value = el.getAttribute(name);
        const english = known[name] && value === known[name].said ? known[name].english : value;
        const replaced = said(english);
        if (replaced === null) {
          if (known[name] && value === known[name].said) el.setAttribute(name, english);
          delete known[name];
        } else {
          known[name] = {english, said: replaced};
          if (value !== replaced) el.setAttribute(name, replaced);
        }
        attrs.set(el, known);
      }
    };
    const walk = (root) => {
      if (root.nodeType === 3) { text(root); return; }
      if (root.nodeType !== 1) return;
      element(root);
      const found = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
      while (found.nextNode()) {
        const node = found.currentNode;
        if (node.nodeType === 3) text(node); else element(node);
      }
    };
    w.__portalChrome = new MutationObserver((changes) => {
      for (const change of changes) {
        if (change.type === "characterData") text(change.target);
        else if (change.type === "attributes") element(change.target);
        else change.addedNodes.forEach(walk);
      }
    });
    w.__portalChrome.observe(document.body, {subtree: true, childList: true, characterData: true,
                                             attributes: true, attributeFilter: ATTRS});
    w.__portalRewalk = () => {
      for (const node of [...texts.keys()]) if (!node.isConnected) texts.delete(node);
      for (const el of [...attrs.keys()]) if (!el.isConnected) attrs.delete(el);
      walk(document.body);
    };
  }
  w.__portalRewalk();
})();
</script>"""


def install(lang: str) -> None:
    """Put Streamlit's words in `lang` on this page (called once per run, in the sidebar)."""
    st.html(_SCRIPT % json.dumps(chrome_words(lang), ensure_ascii=False), unsafe_allow_javascript=True)
