// Stylesheets imported by the page's entry: esbuild bundles them into page.css.
declare module "*.css";
