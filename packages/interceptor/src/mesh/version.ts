/**
 * The @authmesh/interceptor version carried in mesh announcements. A constant (not read from
 * package.json at run time: the package ships ESM and CJS builds from different folders); a unit test
 * keeps it equal to package.json's.
 */
export const PACKAGE_VERSION = '0.1.0';
