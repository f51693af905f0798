/* The share card in WeChat's browser (app/templates/_share.html loads this, with the vendored JS-SDK, only there and
 * only when WeChat is set up): the page's Open Graph tags (title, summary, link, image) become what a chat or Moments
 * shows when the page is shared from WeChat's menu. The JS-SDK's signature of this page's URL is the server's,
 * in <meta name="wechat:..."> tags. Nothing happens elsewhere, and a refused signature only leaves WeChat's default.
 */
(function () {
  "use strict";

  function meta(selector) {
    var element = document.querySelector(selector);
    return element ? element.getAttribute("content") || "" : "";
  }

  var wx = window.wx;
  var appId = meta('meta[name="wechat:app-id"]');
  if (!wx || !appId) return;
  var card = {
    title: meta('meta[property="og:title"]'),
    desc: meta('meta[property="og:description"]'),
    link: meta('meta[property="og:url"]') || window.location.href.split("#")[0],
    imgUrl: meta('meta[property="og:image"]'),
  };
  wx.config({
    debug: false,
    appId: appId,
    timestamp: Number(meta('meta[name="wechat:timestamp"]')),
    nonceStr: meta('meta[name="wechat:nonce"]'),
    signature: meta('meta[name="wechat:signature"]'),
    jsApiList: ["updateAppMessageShareData", "updateTimelineShareData"],
  });
  wx.ready(function () {
    wx.updateAppMessageShareData({ title: card.title, desc: card.desc, link: card.link, imgUrl: card.imgUrl });
    wx.updateTimelineShareData({ title: card.title, link: card.link, imgUrl: card.imgUrl });
    document.documentElement.setAttribute("data-wechat-share", "ready");
  });
  wx.error(function (answer) {
    document.documentElement.setAttribute("data-wechat-share", "refused");
    if (window.console) window.console.warn("WeChat JS-SDK refused the page's signature", answer && answer.errMsg);
  });
})();
