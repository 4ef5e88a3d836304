(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("records-data").textContent);
  document.body.classList.add("js");
  var pieces = {}, items = {}, links = {}, current = null, selected = null;
  document.querySelectorAll("mark[data-rec]").forEach(function (m) {
    (pieces[m.dataset.rec] = pieces[m.dataset.rec] || []).push(m);
  });
  document.querySelectorAll("li.rec").forEach(function (li) { items[li.dataset.rec] = li; });
  document.querySelectorAll("nav a[data-article]").forEach(function (a) {
    links[a.dataset.article] = a;
  });
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.article"));
  sections.forEach(function (s, i) {
    if (i === 0) s.querySelector(".prev").classList.add("disabled");
    if (i === sections.length - 1) s.querySelector(".next").classList.add("disabled");
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function value(v) {
    if (v === null || v === undefined || v === "") return el("span", "null", "—");
    if (Array.isArray(v)) {
      if (!v.length) return el("span", "null", "none");
      var ol = el("ol");
      v.forEach(function (x) { var li = el("li"); li.appendChild(value(x)); ol.appendChild(li); });
      return ol;
    }
    if (typeof v === "object") return fields(v);
    return document.createTextNode(String(v));
  }
  function fields(obj) {
    var dl = el("dl");
    Object.keys(obj).forEach(function (k) {
      dl.appendChild(el("dt", null, k));
      var dd = el("dd"); dd.appendChild(value(obj[k])); dl.appendChild(dd);
    });
    return dl;
  }
  function reveal(box, item) {  // scroll `box` alone (not the window) so `item` is in view
    var b = box.getBoundingClientRect(), r = item.getBoundingClientRect();
    if (r.top < b.top) box.scrollTop -= b.top - r.top;
    else if (r.bottom > b.bottom) box.scrollTop += r.bottom - b.bottom;
  }
  var navBox = document.getElementById("articles");
  function show(id) {
    var s = document.getElementById(id);
    if (!s || !s.classList.contains("article")) s = sections[0];
    if (!s || s === current) return;
    if (current) {
      current.classList.remove("current");
      links[current.id].removeAttribute("aria-current");
    }
    s.classList.add("current"); current = s;
    links[s.id].setAttribute("aria-current", "true");
    reveal(navBox, links[s.id]);
    s.querySelector(".main-col").scrollTop = 0;
  }
  function select(rid, fromList) {
    var rec = data[rid];
    if (!rec) return;
    show(rec.article);
    if (selected) {
      (pieces[selected] || []).forEach(function (m) { m.classList.remove("selected"); });
      if (items[selected]) items[selected].classList.remove("selected");
    }
    selected = rid;
    (pieces[rid] || []).forEach(function (m) { m.classList.add("selected"); });
    items[rid].classList.add("selected");
    var box = current.querySelector(".details");
    var head = el("h4");
    head.appendChild(el("span", "tag", rec.type));
    head.appendChild(document.createTextNode(
      rec.start === null ? "not in the text" : "characters " + rec.start + "\u2013" + rec.end));
    box.replaceChildren(head, fields(rec.fields));
    box.dataset.rec = rid;
    if (fromList && pieces[rid]) pieces[rid][0].scrollIntoView({block: "center"});
    reveal(items[rid].parentNode, items[rid]);
  }
  function route() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (data[id]) select(id, true); else show(id);
  }
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-rec]");
    if (!t || t.classList.contains("off") || t.closest(".details")) return;
    select(t.dataset.rec, t.tagName === "LI");
  });
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && t.classList && t.classList.contains("rec")) {
      select(t.dataset.rec, true);
    } else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && t.tagName !== "INPUT") {
      var next = sections.indexOf(current) + (e.key === "ArrowRight" ? 1 : -1);
      if (next >= 0 && next < sections.length) location.hash = sections[next].id;
    }
  });
  var boxes = document.querySelectorAll("input[data-filter-type]");
  var speaker = document.getElementById("speaker");
  function filter() {
    var types = {}, q = speaker.value.trim().toLowerCase(), shown = 0, total = 0, per = {};
    boxes.forEach(function (b) { types[b.dataset.filterType] = b.checked; });
    Object.keys(data).forEach(function (rid) {
      var rec = data[rid];
      var on = types[rec.type] && (!q || rec.who.some(function (n) {
        return n.toLowerCase().indexOf(q) !== -1; }));
      (pieces[rid] || []).forEach(function (m) { m.classList.toggle("off", !on); });
      items[rid].hidden = !on;
      total += 1;
      if (on) { shown += 1; per[rec.article] = (per[rec.article] || 0) + 1; }
    });
    var filtering = shown !== total;
    Object.keys(links).forEach(function (id) {
      links[id].classList.toggle("empty", filtering && !per[id]);
    });
    document.getElementById("shown").textContent =
      filtering ? shown + " of " + total + " records shown" : "";
  }
  boxes.forEach(function (b) { b.addEventListener("change", filter); });
  speaker.addEventListener("input", filter);
  window.addEventListener("hashchange", route);
  route();
  filter();
})();
