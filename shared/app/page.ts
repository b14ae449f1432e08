// The dashboard app's page: one small HTML document with its style and script inline (no framework, no other
// request but the one to the bridge's API), allowed by a Content-Security-Policy that names their hashes and lets
// only the Chatwoot origin frame it. Chatwoot hands the page its context by postMessage (see the script).
import { createHash } from 'node:crypto';

// Colours: Chatwoot's neutral surfaces, with text, links and badges at ≥ 4.5:1 contrast on them (WCAG AA).
// Chatwoot's theme is `auto` (the system's) unless an agent picks one (app/javascript/dashboard/helper/
// themeHelper.js sets `color-scheme` on its own document only). The frame follows the system through
// prefers-color-scheme, which matches `auto`; Chromium does not pass the embedder's color-scheme into a
// cross-origin frame, so a desk that forces a theme adds `&theme=dark` (or light) to the app URL.
const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2d3d;--muted:#56606b;--line:#e2e6ea;--link:#0a5fb4;
--btn:#0a5fb4;--btn-fg:#fff;--warn-bg:#fff4d6;--warn-fg:#6b4400;--bad-bg:#fde8e8;--bad-fg:#9b1c1c;--chip:#eef1f4;
--focus:#0a5fb4;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){color-scheme:dark;--bg:#151718;--fg:#eceef0;--muted:#a4adb6;--line:#2e3338;--link:#7cb8ff;--btn:#7cb8ff;
--btn-fg:#0b1a2b;--warn-bg:#3b2e0c;--warn-fg:#ffd88a;--bad-bg:#43191b;--bad-fg:#ffb3b3;--chip:#262a2e;--focus:#7cb8ff}}
:root[data-theme=light]{color-scheme:light}
:root[data-theme=dark]{color-scheme:dark;--bg:#151718;--fg:#eceef0;--muted:#a4adb6;--line:#2e3338;--link:#7cb8ff;--btn:#7cb8ff;
--btn-fg:#0b1a2b;--warn-bg:#3b2e0c;--warn-fg:#ffd88a;--bad-bg:#43191b;--bad-fg:#ffb3b3;--chip:#262a2e;--focus:#7cb8ff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);padding:12px 14px;max-width:560px}
h1{font-size:15px;margin:0 0 8px}h2{font-size:13px;margin:16px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
a{color:var(--link)}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
ul{list-style:none;margin:0;padding:0}
.tags li{display:inline-block;background:var(--chip);border-radius:4px;padding:0 6px;margin:0 4px 4px 0}
.problems li{border:1px solid var(--line);border-radius:6px;padding:8px;margin-bottom:6px}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;margin-right:6px}
.retrying{background:var(--warn-bg);color:var(--warn-fg)}.dead-lettered{background:var(--bad-bg);color:var(--bad-fg)}
.meta{color:var(--muted);font-size:12px;display:block;margin:2px 0 6px}
button{font:inherit;border-radius:6px;border:1px solid var(--btn);background:var(--btn);color:var(--btn-fg);
padding:4px 12px;cursor:pointer;min-height:32px}
button.secondary{background:transparent;color:var(--link)}
button:disabled{opacity:.6;cursor:progress}
:focus-visible{outline:2px solid var(--focus);outline-offset:2px}
#msg{min-height:1.4em;margin:8px 0 0}
.empty{color:var(--muted)}
`;

// Reads the context Chatwoot posts (app/javascript/dashboard/components/widgets/DashboardApp/Frame.vue at commit
// 59442e57, contracts/chatwoot/SOURCE.md: onIframeLoad posts a JSON string {"event":"appContext","data":{conversation,contact,
// currentAgent}} sent to "*" when the frame loads, and again when the app posts 'chatwoot-dashboard-app:fetch-info').
// Only the conversation id is taken from it, and only as a number to ask the bridge about: the bridge checks it.
const SCRIPT = `
(function(){
var root=document.documentElement,origin=root.getAttribute('data-chatwoot-origin');
var params=new URLSearchParams(location.hash.slice(1)),key=params.get('key')||'',theme=params.get('theme');
if(theme==='dark'||theme==='light')root.setAttribute('data-theme',theme);
var api=location.pathname.replace(/\\/app\\/?$/,'')+'/app/api/conversations/';
var view=document.getElementById('view'),msg=document.getElementById('msg'),current=null;
function el(tag,attrs,kids){var e=document.createElement(tag);for(var k in attrs||{}){if(k==='text')e.textContent=attrs[k];else e.setAttribute(k,attrs[k]);}
(kids||[]).forEach(function(c){if(c)e.appendChild(c);});return e;}
function say(t){msg.textContent=t;}
function ago(at,now){if(!at)return 'never (in the ledger\\u2019s memory)';var s=Math.max(0,Math.round((now-at)/1000));
if(s<60)return s+' s ago';if(s<3600)return Math.round(s/60)+' min ago';if(s<172800)return Math.round(s/3600)+' h ago';return Math.round(s/86400)+' days ago';}
function time(at,now){var t=el('time',{datetime:new Date(at).toISOString(),title:new Date(at).toLocaleString(),text:ago(at,now)});return t;}
function call(method,path,body){var h={authorization:'Bearer '+key};if(body)h['content-type']='application/json';
return fetch(api+path,{method:method,headers:h,body:body?JSON.stringify(body):undefined,credentials:'omit',cache:'no-store'})
.then(function(r){return r.json().catch(function(){return {};}).then(function(b){if(!r.ok)throw new Error(b.message||('The bridge answered '+r.status+'.'));return b;});});}
function row(dl,name,value){dl.appendChild(el('dt',{text:name}));var dd=el('dd');if(typeof value==='string')dd.textContent=value;else dd.appendChild(value);dl.appendChild(dd);}
function render(s){view.textContent='';
if(!s.linked){view.appendChild(el('p',{text:s.reason==='other-inbox'?'This conversation is not in the bridge\\u2019s inbox, so it has no Zendesk ticket.':s.reason==='not-found'?'The bridge cannot see this conversation in its Chatwoot account.':'This conversation is not linked to a Zendesk ticket.'}));return;}
var t=s.ticket,dl=el('dl');
row(dl,'Ticket',el('a',{href:t.url,target:'_blank',rel:'noopener noreferrer',text:'#'+t.id}));
row(dl,'Subject',t.subject||'(no subject)');row(dl,'Status',t.status);row(dl,'Priority',t.priority||'none');
var rq=el('span');if(t.requester){rq.appendChild(document.createTextNode(t.requester.name));if(t.requester.email){rq.appendChild(el('br'));rq.appendChild(el('a',{href:'mailto:'+t.requester.email,text:t.requester.email}));}}else rq.textContent='unknown';
row(dl,'Requester',rq);row(dl,'Assignee',t.assignee?t.assignee.name:'unassigned');
var tags=el('ul',{'class':'tags','aria-label':'Tags'});t.tags.forEach(function(g){tags.appendChild(el('li',{text:g}));});
row(dl,'Tags',t.tags.length?tags:el('span',{'class':'empty',text:'none'}));
view.appendChild(dl);
view.appendChild(el('h2',{id:'sync-h',text:'Last synced'}));var sy=el('dl',{'aria-labelledby':'sync-h'});
row(sy,'Zendesk \\u2192 Chatwoot',s.lastSynced.zendeskToChatwoot?time(s.lastSynced.zendeskToChatwoot,s.now):'not yet');
row(sy,'Chatwoot \\u2192 Zendesk',s.lastSynced.chatwootToZendesk?time(s.lastSynced.chatwootToZendesk,s.now):'not yet');
view.appendChild(sy);
view.appendChild(el('h2',{id:'prob-h',text:'Waiting or failed'}));
if(!s.problems.length)view.appendChild(el('p',{'class':'empty',text:'Nothing is waiting for a retry or dead-lettered.'}));
else{var ul=el('ul',{'class':'problems','aria-labelledby':'prob-h'});s.problems.forEach(function(p){
var b=el('button',{type:'button','class':'secondary',text:'Retry','aria-label':'Retry '+p.label});
b.addEventListener('click',function(){act(b,'retry',{eventKey:p.eventKey},function(r){return r.action==='released'?'Retrying now.':'Sent again.';});});
ul.appendChild(el('li',{},[el('span',{'class':'badge '+p.state,text:p.state==='retrying'?'waiting for retry':'dead-lettered'}),el('strong',{text:p.label}),
el('span',{'class':'meta',text:p.reason+' \\u00b7 '+ago(p.at,s.now)}),b]));});view.appendChild(ul);}
var rs=el('button',{type:'button',text:'Resync'});rs.addEventListener('click',function(){act(rs,'resync',null,function(r){return 'Resync asked: '+r.enqueued+' missing item(s) queued.';});});
view.appendChild(el('p',{},[rs]));}
function act(button,path,body,done){button.disabled=true;button.setAttribute('aria-busy','true');say('Working\\u2026');
call('POST',current+'/'+path,body).then(function(r){say(done(r));return load();}).catch(function(e){say(e.message);})
.then(function(){button.disabled=false;button.removeAttribute('aria-busy');});}
function load(){return call('GET',current).then(render);}
if(!key){say('This page\\u2019s URL lacks its key: paste the URL printed by \\u201cnpm run bridge -- app-url\\u201d into Chatwoot.');return;}
window.addEventListener('message',function(ev){
if(ev.source!==window.parent||(origin&&ev.origin!==origin)||typeof ev.data!=='string')return;
var m;try{m=JSON.parse(ev.data);}catch(e){return;}
var c=m&&m.event==='appContext'&&m.data&&m.data.conversation;var id=c&&c.id;
if(typeof id==='string'&&/^\\d{1,18}$/.test(id))id=Number(id);
if(typeof id!=='number'||!Number.isSafeInteger(id)||id<1||String(id)===current)return;
current=String(id);say('Loading\\u2026');load().then(function(){say('');}).catch(function(e){view.textContent='';say(e.message);});});
if(window.parent!==window)window.parent.postMessage('chatwoot-dashboard-app:fetch-info',origin||'*');
else say('Open this page from a Chatwoot conversation (Dashboard Apps).');
})();
`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
const STYLE_HASH = sha256(STYLE);
const SCRIPT_HASH = sha256(SCRIPT);

const escapeAttr = (s: string) =>
  s.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

/** The page and the headers that must go with it; `chatwootOrigin` is the only origin allowed to frame it. */
export function appPage(chatwootOrigin: string): { html: string; headers: Record<string, string> } {
  const html = `<!doctype html>
<html lang="en" data-chatwoot-origin="${escapeAttr(chatwootOrigin)}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Zendesk ticket</title><style>${STYLE}</style></head>
<body><main aria-labelledby="title"><h1 id="title">Zendesk ticket</h1><div id="view"></div>
<p id="msg" role="status" aria-live="polite">Waiting for Chatwoot\u2026</p></main><script>${SCRIPT}</script></body></html>`;
  return {
    html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': [
        "default-src 'none'",
        `script-src ${SCRIPT_HASH}`,
        `style-src ${STYLE_HASH}`,
        "connect-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        `frame-ancestors ${chatwootOrigin}`,
      ].join('; '),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    },
  };
}
