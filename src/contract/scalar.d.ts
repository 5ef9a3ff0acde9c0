// wrangler.toml's [[rules]] make Scalar's standalone bundle a text module (wrangler dev, the bundle
// and the Workers tests alike), served from this origin by src/contract/serve.ts.
declare module "@scalar/api-reference/browser/standalone.js" {
  const text: string;
  export default text;
}
