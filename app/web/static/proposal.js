// Progressive enhancement of the proposal form: show the rule set that applies as the
// officer types (GET /v1/rulesets/resolve).  Without JavaScript the 查询适用规则集 button
// does the same on the server.
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  var box = document.getElementById("resolved");
  if (!form || !box || !window.fetch) { return; }
  var names = ["jurisdiction", "ruleset", "industry.code", "industry.classification", "as_of"];
  var timer = null;
  var seq = 0;

  function val(name) {
    var el = form.elements[name];
    return el ? el.value.trim() : "";
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  function badge(status) {
    return status === "example" ? el("span", "示例数据", "badge badge-example")
      : el("span", status === "official" ? "正式发布" : status, "badge" + (status === "official" ? " badge-official" : ""));
  }

  function show(nodes) {
    while (box.firstChild) { box.removeChild(box.firstChild); }
    nodes.forEach(function (n) { box.appendChild(n); });
  }

  function render(data) {
    var rs = data.ruleset;
    var p1 = el("p");
    p1.appendChild(el("strong", "适用规则集："));
    p1.appendChild(document.createTextNode(rs.title + " "));
    p1.appendChild(el("code", rs.id));
    p1.appendChild(document.createTextNode(" 版本 " + rs.version + " "));
    p1.appendChild(badge(rs.status));
    var p2 = el("p", "摘要 ");
    p2.appendChild(el("code", rs.digest, "digest"));
    p2.appendChild(document.createTextNode("，共 " + data.rules.length + " 条有效规则"));
    var ol = el("ol", null, "layers");
    rs.layers.forEach(function (l) {
      var li = el("li", l.title + " ");
      li.appendChild(el("code", l.id));
      li.appendChild(document.createTextNode(" " + l.version + " "));
      li.appendChild(badge(l.status));
      ol.appendChild(li);
    });
    show([p1, p2, el("p", "规则层级（上级 → 下级）："), ol]);
  }

  function problem(body) {
    var d = body && body.detail;
    if (Array.isArray(d)) { return d.map(function (x) { return x.msg; }).join("；"); }
    return typeof d === "string" ? d : "无法查询";
  }

  function resolve() {
    var j = val("jurisdiction"), rid = val("ruleset"), asOf = val("as_of");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || (!rid && !/^\d{6}$/.test(j))) { return; }
    var q = new URLSearchParams({as_of: asOf});
    if (rid) { q.set("ruleset", rid); } else { q.set("jurisdiction", j); }
    if (val("industry.code")) {
      q.set("industry", val("industry.code"));
      q.set("classification", val("industry.classification"));
    }
    var mine = ++seq;
    box.setAttribute("aria-busy", "true");
    fetch("/v1/rulesets/resolve?" + q.toString(), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); })
      .then(function (res) {
        if (mine !== seq) { return; }
        if (res.ok) { render(res.body); } else { show([el("p", "未能确定适用规则集：" + problem(res.body))]); }
      })
      .catch(function () { if (mine === seq) { show([el("p", "暂时无法查询规则集，提交后将在结论中显示。")]); } })
      .then(function () { box.removeAttribute("aria-busy"); });
  }

  names.forEach(function (n) {
    var e = form.elements[n];
    if (!e) { return; }
    ["input", "change"].forEach(function (ev) {
      e.addEventListener(ev, function () { clearTimeout(timer); timer = setTimeout(resolve, 300); });
    });
  });
  resolve();
}());
