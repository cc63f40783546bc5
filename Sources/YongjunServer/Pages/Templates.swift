import Mustache

/// The page templates, compiled into the binary so a deployed `yongjun` needs no resource folder.
/// One layout (`page`) wraps every page; text is Simplified Chinese, type is large, targets are big.
enum Templates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in all + histories { library.register(try MustacheTemplate(string: text), named: name) }
        return library
    }

    static let all: [(String, String)] = [
        ("page", page), ("card-login", cardLogin), ("card-activate", cardActivate), ("card-code", cardCode),
        ("shop-login", shopLogin), ("shop-verify", shopVerify), ("shops", shops), ("apply", apply), ("apply-done", applyDone),
    ]

    static let page = """
        <!doctype html>
        <html lang="zh-CN"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}
        <title>{{title}} · 一城百店齐拥军</title>
        <link rel="stylesheet" href="/assets/site.css"></head>
        <body><header>一城百店齐拥军 · {{title}}</header><main>{{{content}}}</main></body></html>
        """

    static let cardLogin = """
        <h1>查看我的优待码</h1>
        {{#error}}<p class="error">{{error}}</p>{{/error}}
        <form method="post" action="/card/login">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="cardNo">优待证号</label><input id="cardNo" name="cardNo" autocomplete="username" required value="{{cardNo}}">
        <label for="pin">6 位 PIN</label><input id="pin" name="pin" type="password" inputmode="numeric" maxlength="6" autocomplete="current-password" required>
        <button type="submit">登录</button></form>
        <p class="note">第一次使用？请用事务局发放的激活码 <a class="nowrap" href="/card/activate">激活</a>。</p>
        """

    static let cardActivate = """
        <h1>激活优待码</h1>
        {{#error}}<p class="error">{{error}}</p>{{/error}}
        <form method="post" action="/card/activate">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="cardNo">优待证号</label><input id="cardNo" name="cardNo" required value="{{cardNo}}">
        <label for="activationCode">激活码</label><input id="activationCode" name="activationCode" autocomplete="off" required>
        <label for="pin">设置 6 位 PIN</label><input id="pin" name="pin" type="password" inputmode="numeric" maxlength="6" autocomplete="new-password" required>
        <label for="pin2">再输入一次 PIN</label><input id="pin2" name="pin2" type="password" inputmode="numeric" maxlength="6" autocomplete="new-password" required>
        <button type="submit">激活</button></form>
        """

    static let cardCode = """
        <h1>{{holder}} · {{categoryLabel}}</h1>
        <div class="qr">{{{qr}}}</div>
        <p class="note center">无法扫码时，请收银员输入数字码：</p>
        <p class="big" id="short">{{shortCode}}</p>
        <p class="center">剩余 <strong id="left" data-left="{{secondsLeft}}">{{secondsLeft}}</strong> 秒，到时自动刷新</p>
        <script src="/assets/card.js" defer></script>
        <a class="button secondary" href="/card/history">使用记录与凭证</a>
        <form method="post" action="/card/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary">退出</button></form>
        """

    static let shopLogin = """
        <h1>收银台核验 · 商户登录</h1>
        {{#error}}<p class="error">{{error}}</p>{{/error}}
        <form method="post" action="/shop/login">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="key">商户核验密钥</label><input id="key" name="key" autocomplete="off" required>
        <button type="submit">登录本设备</button></form>
        <p class="note">密钥由退役军人事务局发放，只需在本设备输入一次。</p>
        """

    /// The form works without JavaScript; with it, shop.js verifies offline too, answering into `#answer` and showing
    /// the snapshot's age and the upload queue in `#offline-status`.
    static let shopVerify = """
        <div id="answer">{{#result}}<div class="result {{class}}" role="status"><div>{{headline}}</div>{{#benefit}}<div class="benefit">{{benefit}}</div>{{/benefit}}{{#detail}}<div class="detail">{{detail}}</div>{{/detail}}</div>{{/result}}</div>
        <form method="post" action="/shop/verify" id="verify-form">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="code">扫码或输入数字码后按回车</label>
        <input id="code" name="code" autocomplete="off" autofocus required>
        <button type="submit">核验</button></form>
        <p class="note">{{shopName}}</p>
        <p class="note" id="offline-status" hidden><span id="sync-age">离线数据未同步</span> · <span id="queue-count" data-count="0">待上传 0 条</span></p>
        <script src="/assets/offline-verify.js" defer></script><script src="/assets/offline-benefit.js" defer></script><script src="/assets/shop.js" defer></script>
        """

    static let shops = """
        <h1>合作商户</h1>
        <nav>{{#filters}}<a href="{{href}}"{{#current}} class="current"{{/current}}>{{label}}</a>{{/filters}}</nav>
        {{#holderCategory}}<nav><a href="/shops?mine=1"{{#mine}} class="current"{{/mine}}>我（{{holderCategory}}）能享受的</a></nav>{{/holderCategory}}
        <ul class="shops">{{#shops}}<li><strong>{{name}}</strong> · {{industryLabel}}{{#address}}<br>{{address}}{{/address}}{{#rules}}<br>{{categories}}：<strong>{{benefit}}</strong>{{#limits}}<span class="note">（{{limits}}）</span>{{/limits}}{{/rules}}{{^rules}}{{#benefit}}<br>优惠：{{benefit}}{{/benefit}}{{/rules}}{{#batch}}<br><span class="note">第 {{batch}} 批合作商户</span>{{/batch}}</li>{{/shops}}</ul>
        {{^shops}}<p>暂无商户。</p>{{/shops}}
        """

    static let apply = """
        <h1>商户入驻申请</h1>
        {{#error}}<p class="error">{{error}}</p>{{/error}}
        <form method="post" action="/apply">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="shopName">门店名称</label><input id="shopName" name="shopName" maxlength="100" required value="{{shopName}}">
        <label for="creditCode">统一社会信用代码</label><input id="creditCode" name="creditCode" maxlength="18" required value="{{creditCode}}">
        <label for="industry">行业</label><select id="industry" name="industry">{{#industries}}<option value="{{code}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/industries}}</select>
        <label for="address">地址</label><input id="address" name="address" maxlength="200" required value="{{address}}">
        <label for="contact">联系人</label><input id="contact" name="contact" maxlength="50" required value="{{contact}}">
        <label for="phone">联系电话</label><input id="phone" name="phone" maxlength="20" required value="{{phone}}">
        <label for="benefit">优惠内容</label><textarea id="benefit" name="benefit" maxlength="200" required>{{benefit}}</textarea>
        <button type="submit">提交申请</button></form>
        """

    static let applyDone = """
        <h1>申请已提交</h1>
        <p>请记下或截图保存您的申请编号：</p><p class="big">{{reference}}</p>
        <p>下一步：您的申请已进入第 {{batch}} 批“收集资料”阶段。事务局工作人员将拨打 {{phone}} 与 {{contact}} 联系，核对营业执照等资料，请准备好营业执照原件。</p>
        <p class="note">之后依次为资格审核、实地考核、讨论方案和开会通过。查询进度或更正资料，请致电事务局并报上申请编号 {{reference}}。</p>
        """
}
