// How src/routes/example.ts sees the files it serves: wrangler.toml's [[rules]] (and wrangler's own
// rule for *.html) make them text modules, in `wrangler dev`, the bundle and the Workers tests alike.
declare module "*/client/example/index.html" {
  const text: string;
  export default text;
}
declare module "*/client/example/app.js" {
  const text: string;
  export default text;
}
declare module "*/client/example/style.css" {
  const text: string;
  export default text;
}
declare module "*/client/dist/edge-auth.js" {
  const text: string;
  export default text;
}
