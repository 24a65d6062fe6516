// Loaded between require.js and the ipywidgets HTML manager (see nb_ipywidgets_js in _config.yml).
(function () {
  // 1. The manager computes where its fonts live from its require.js module path; point that path
  //    at the copy served by this site, so fonts load from here at any page depth and offline.
  const dist = new URL("html-manager/dist", document.currentScript.src).href;
  require.config({
    paths: { "@jupyter-widgets": dist, "@jupyter-widgets/html-manager/dist": dist },
  });
  // 2. ipywidgets typesets widget labels with the MathJax 2 call MathJax.Hub.Queue; the site uses
  //    MathJax 3, so translate that call to MathJax 3's typesetPromise once MathJax has loaded.
  document.addEventListener("DOMContentLoaded", function () {
    const mj = window.MathJax;
    if (mj === undefined || mj.Hub !== undefined) return;
    mj.Hub = {
      Queue: function (...jobs) {
        for (const [, , element] of jobs) {
          mj.startup.promise.then(() => mj.typesetPromise([element]));
        }
      },
    };
  });
})();
