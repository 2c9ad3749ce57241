import type { PackageDefinition } from '@grpc/proto-loader';
import type { Principal } from '../claims.js';
import { AuthError } from '../errors.js';

/** The access rule of one method, as in the `(authmesh.v1.rule)` option or a code-level override. */
export interface MethodRule {
  /** No token needed; a token sent anyway must still be valid. */
  public?: boolean;
  /** Every one of these scopes must be granted. */
  scopes?: readonly string[];
  /** Every one of these roles must be held. */
  roles?: readonly string[];
}

/** A rule after parsing: what the interceptor evaluates on each call. */
export interface ResolvedRule {
  readonly public: boolean;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
}

/** Deny by default: a method without a rule needs an authenticated caller and nothing more. */
export const AUTHENTICATED: ResolvedRule = Object.freeze({
  public: false,
  scopes: Object.freeze([]),
  roles: Object.freeze([]),
});

const RULE_OPTION = '(authmesh.v1.rule)';

/** True for the rule option's key in either spelling protobufjs keeps: `(authmesh.v1.rule)` or `(.authmesh.v1.rule)`. */
export function isRuleOption(key: string): boolean {
  return key === RULE_OPTION || key === '(.authmesh.v1.rule)';
}
/** Any other option of authmesh's packages on a method is a misspelling (`(authmesh.v1.rules)`). */
const AUTHMESH_OPTION = /^\(\.?authmesh\./;
const PATH = /^\/[^/\s]+\/[^/\s]+$/;

const RULE_FIELDS: readonly string[] = ['public', 'scopes', 'roles'];

/**
 * A repeated string field. Protobuf text format lets a repeated field be given one bare value
 * (`roles: "finance"`), which protobufjs hands over as a string: that is a list of one.
 */
function stringList(value: unknown, name: string): readonly string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s !== '' && !/\s/.test(s))) {
    throw new TypeError(`${name}: must be a list of non-empty strings without spaces`);
  }
  return Object.freeze([...list]);
}

/**
 * Parses one rule strictly. protobufjs does not check the fields of an option message, so without
 * this a typo (`scope:` for `scopes:`) would silently leave an admin method open to any caller.
 */
function resolveRule(rule: unknown, name: string): ResolvedRule {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
    throw new TypeError(`${name}: must be an object`);
  for (const key of Object.keys(rule)) {
    if (!RULE_FIELDS.includes(key))
      throw new TypeError(
        `${name}: unknown field ${JSON.stringify(key)} (fields: ${RULE_FIELDS.join(', ')})`,
      );
  }
  const r = rule as Record<string, unknown>;
  if (r.public !== undefined && typeof r.public !== 'boolean')
    throw new TypeError(`${name}.public: must be a boolean`);
  const scopes = stringList(r.scopes, `${name}.scopes`);
  const roles = stringList(r.roles, `${name}.roles`);
  if (r.public === true && (scopes.length > 0 || roles.length > 0)) {
    throw new TypeError(`${name}: a public method cannot require scopes or roles`);
  }
  if (r.public !== true && scopes.length === 0 && roles.length === 0) return AUTHENTICATED;
  return Object.freeze({ public: r.public === true, scopes, roles });
}

/** Every method of every service in a proto-loader package definition, with its options. */
function methodsOf(definition: PackageDefinition): Map<string, Record<string, unknown> | undefined> {
  const methods = new Map<string, Record<string, unknown> | undefined>();
  for (const entry of Object.values(definition)) {
    if (typeof entry !== 'object' || entry === null || 'format' in entry) continue; // message/enum types
    for (const m of Object.values(entry as Record<string, unknown>)) {
      const method = m as { path?: unknown; options?: Record<string, unknown> };
      if (typeof method?.path === 'string') methods.set(method.path, method.options);
    }
  }
  return methods;
}

/** The rule of each method path; paths not in the table get AUTHENTICATED. */
export type RuleTable = ReadonlyMap<string, ResolvedRule>;

/**
 * Builds the rule table from the `(authmesh.v1.rule)` method options of `definition`, then applies
 * `overrides` (an override replaces the proto's rule). An override for a path the definition lacks
 * is a TypeError, so a typo cannot silently leave a method at the default. `source` names the
 * definition in errors (the option it came from).
 */
export function buildRules(
  definition: PackageDefinition | undefined,
  overrides: Record<string, MethodRule> | undefined,
  source = 'packageDefinition',
): RuleTable {
  const table = new Map<string, ResolvedRule>();
  const methods = definition ? methodsOf(definition) : undefined;
  if (methods) {
    for (const [path, options] of methods) {
      let rule: unknown;
      for (const [key, value] of Object.entries(options ?? {})) {
        if (isRuleOption(key)) {
          if (rule !== undefined) throw new TypeError(`${source} ${path} ${RULE_OPTION}: given twice`);
          rule = value;
        } else if (AUTHMESH_OPTION.test(key)) {
          throw new TypeError(
            `${source} ${path}: unknown option ${key.replace(/\).*$/, ')')} (authmesh declares ${RULE_OPTION})`,
          );
        }
      }
      table.set(
        path,
        rule === undefined || rule === null
          ? AUTHENTICATED
          : resolveRule(rule, `${source} ${path} ${RULE_OPTION}`),
      );
    }
  }
  if (overrides !== undefined) {
    if (typeof overrides !== 'object' || overrides === null)
      throw new TypeError('rules: must be an object keyed by method path');
    for (const [path, rule] of Object.entries(overrides)) {
      if (!PATH.test(path))
        throw new TypeError(`rules: ${JSON.stringify(path)} is not a method path like "/pkg.Service/Method"`);
      if (methods && !methods.has(path)) throw new TypeError(`rules: ${path} is not a method of ${source}`);
      table.set(path, resolveRule(rule, `rules["${path}"]`));
    }
  }
  return table;
}

/** Throws ERR_SCOPE_MISSING / ERR_ROLE_MISSING unless `principal` satisfies `rule`. */
export function checkRule(rule: ResolvedRule, principal: Principal): void {
  for (const scope of rule.scopes)
    if (!principal.scopes.has(scope)) throw new AuthError('ERR_SCOPE_MISSING', 'insufficient scope');
  for (const role of rule.roles)
    if (!principal.roles.has(role)) throw new AuthError('ERR_ROLE_MISSING', 'missing role');
}
