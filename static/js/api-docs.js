// Accessibility repairs for Swagger UI on the API docs page. Same-origin file, loaded after
// swagger-ui-bundle.js and before drf-spectacular's init script, so the CSP stays strict.
//
// 1. A Swagger UI plugin (its documented extension point, so React keeps owning the markup):
//    - each operation's summary is a <button> whose path text was also a deep link <a href>,
//      an interactive control inside another (screen readers and keyboards see one control,
//      or two fighting ones). The summary renders the path without the href; deep linking
//      itself still works, since expanding an operation still writes its #/tag/operation
//      into the address bar and loading such an address still opens it.
//    - the request body editor is a <textarea> without a label: it gets "Request body".
// 2. Attributes React does not manage, set after each render: the icon-only close button of
//    the Authorize dialog gets a name; parameter inputs get their parameter's name; buttons
//    whose aria-label does not contain their visible text (voice control users say what they
//    see) get a label that does; and code blocks (examples, responses, curl), which scroll
//    once long, join the tab order so a keyboard can scroll them.
(function () {
  "use strict";

  var bundle = window.SwaggerUIBundle;
  if (typeof bundle !== "function") return;

  function accessibility() {
    return {
      wrapComponents: {
        OperationSummaryPath: function (Original, system) {
          return function (props) {
            var operationProps = props.operationProps.set("isDeepLinkingEnabled", false);
            return system.React.createElement(
              Original,
              Object.assign({}, props, { operationProps: operationProps })
            );
          };
        },
        TextArea: function (Original, system) {
          return function (props) {
            var named = props["aria-label"] || props["aria-labelledby"] || props.id;
            var body = /\bbody-param__text\b/.test(props.className || "");
            if (named || !body) return system.React.createElement(Original, props);
            return system.React.createElement(
              Original,
              Object.assign({ "aria-label": "Request body" }, props)
            );
          };
        },
      },
    };
  }

  function withAccessibility(config) {
    var plugins = (config && config.plugins) || [];
    return bundle(Object.assign({}, config, { plugins: plugins.concat([accessibility]) }));
  }
  // The init script also reads SwaggerUIBundle.presets and friends.
  Object.assign(withAccessibility, bundle);
  window.SwaggerUIBundle = withAccessibility;

  function repair(root) {
    root.querySelectorAll("button.close-modal:not([aria-label])").forEach(function (button) {
      button.setAttribute("aria-label", "Close dialog");
    });
    root.querySelectorAll("button[aria-label]").forEach(function (button) {
      var text = button.textContent.replace(/\s+/g, " ").trim();
      var label = button.getAttribute("aria-label");
      if (text && label.toLowerCase().indexOf(text.toLowerCase()) === -1) {
        button.setAttribute("aria-label", text + " (" + label.toLowerCase() + ")");
      }
    });
    // A parameter's input is named by its placeholder only, and once invalid by a title
    // holding the error: neither is a label. Name it after its parameter.
    root.querySelectorAll("tr[data-param-name]").forEach(function (row) {
      var name = row.getAttribute("data-param-name");
      var where = row.getAttribute("data-param-in");
      row.querySelectorAll("input, select, textarea").forEach(function (field) {
        if (field.hasAttribute("aria-label") || (field.labels && field.labels.length)) return;
        field.setAttribute("aria-label", where ? name + " (" + where + ")" : name);
      });
    });
    root.querySelectorAll("pre.microlight:not([tabindex])").forEach(function (pre) {
      pre.setAttribute("tabindex", "0");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    if (!root) return;
    repair(root);
    new MutationObserver(function () {
      repair(root);
    }).observe(root, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["aria-label"],
    });
  });
})();
