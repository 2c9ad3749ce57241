// CommonJS entry: @authmesh/client is an ES module. Node >= 20.19 and >= 22.12 load it with
// require() (require(esm)); older Node versions get this explicit error instead of a confusing one.
'use strict';
if (!process.features.require_module) {
  const err = new Error(
    '@authmesh/client is an ES module: use import (or await import()), or Node >= 20.19 / >= 22.12 where require() can load ES modules',
  );
  err.code = 'ERR_REQUIRE_ESM';
  throw err;
}
module.exports = require('../dist/index.js');
