// Guards gst_parse_launch() against a crash in GStreamer 1.22's parser.
//
// When every element of a description fails to be made (an unknown factory, an
// unknown property, a value that does not convert, e.g. `fakesrc
// num-buffers=true`), the parser's result is NULL, yet it still resolves the
// description's links against it: a link whose source is a name reference
// (`a. ! b.`) reads the name of that NULL element (grammar.y,
// gst_resolve_reference) and the process dies with SIGSEGV. A plain C program
// crashes the same way.
//
// A description with a name reference is first parsed with an `identity` in
// front: the result is then never NULL, so that parse fails cleanly if any
// element fails, and only a description whose every element can be made reaches
// the real parse. (A reference that is not a link's source crashes nothing, but
// when an element fails the result can be the one element left, not a bin, and a
// caps filter linking it to itself by reference has no bin to go in:
// `a name=t ! video/x-raw ! t. b bad=1`, a CRITICAL found by the fuzzer.) Branches (`pipeline.add()`, `track.link()`,
// `addTrack()`) are safe without this: gst_parse_bin_from_description() wraps
// them in `bin.( ... )`, and a bin is always made.
// Also refused before parsing, for pipelines and branches alike, as they make
// GLib print CRITICALs (found by the fuzzer):
// - a property given twice to one element (`queue name=a name=b`): the parser
//   creates each element with all its properties at once
//   (g_object_new_is_valid_property: "cannot be set twice");
// - the all-pads link `:`, which links pads without checking their direction
//   (gst_pad_link_full: `GST_PAD_IS_SRC (srcpad)`);
// - an empty link (`a ! ! b`, `a !! b`): the parser links elements that are in
//   no bin (gst_element_link_pads_filtered: `GST_IS_BIN (parent)`);
// - unbalanced parentheses: a branch is parsed inside `bin.( ... )`, and a `)`
//   of its own closes that bin early (gst_element_link_pads_filtered:
//   `GST_IS_BIN (parent)`);
// - two elements of one bin with the same name (`a name=x ! b name=x ! caps ! c`):
//   the bin refuses the second, and a caps filter linked to it has no bin to go
//   in (gst_element_link_pads_filtered: `GST_IS_BIN (parent)`).
import { GstError } from './errors.js';
import { withInstallHint } from './missing-dependency.js';
import { native } from './native.js';


/** A name no description uses, for the trial parse's extra element. */
const TRIAL_ELEMENT = 'identity name=gst_webrtc_node_launch_guard';

/**
 * Whether `description` names an element by reference (`name.` or `name.pad`),
 * the shape that can crash gst_parse_launch() (see above). Conservative: a token
 * with `=` is a property or a caps field, and factory names have no dot, so any
 * other token with a dot counts (a false match only costs a trial parse).
 */
export function hasReference(description: string): boolean {
  return tokens(description).some((token) => token.includes('.') && !token.includes('=') && !token.startsWith('"'));
}

/**
 * Throws the parse error (a GstError, or MissingDependencyError for a missing
 * element) for a description that would crash gst_parse_launch(); returns
 * otherwise. Call before parsing a whole pipeline.
 */
export function checkLaunchDescription(description: string): void {
  checkBranchDescription(description);
  if (hasReference(description)) {
    let trial;
    try {
      trial = new native.NativePipeline(`${TRIAL_ELEMENT} ${description}`, () => undefined);
    } catch (error) {
      throw withInstallHint(error);
    }
    trial.close();
  }
  // One element and a link: it can only be linked to itself, and as the parse
  // result is then that element, not a bin, a caps filter on the link has no bin
  // to go in (gst_element_link_pads_filtered: `GST_IS_BIN (parent)` CRITICAL).
  if (elementCount(description) === 1 && tokens(description).includes('!')) {
    throw parseError(`could not link: the description links its one element to itself: ${JSON.stringify(description.slice(0, 200))}`, PARSE_ERROR.link);
  }
}

/** GStreamer's GstParseError codes, for the errors this module raises in its place. */
const PARSE_ERROR = { syntax: 0, link: 3, couldNotSetProperty: 4 } as const;

function parseError(message: string, code: number): GstError {
  return new GstError(message, { domain: 'gst_parse_error', code });
}

/**
 * Throws the GstError GStreamer's parser should have raised (see above) for a
 * description it would answer with a CRITICAL. Call before parsing any description.
 */
export function checkBranchDescription(description: string): void {
  let seen = new Set<string>();
  // Element names of each bin the description opens, the outermost first.
  const names = [new Set<string>()];
  let previous = '';
  for (const token of tokens(description)) {
    if (token === '!' && previous === '!') throw parseError(`syntax error: an empty link ('! !') in ${JSON.stringify(description.slice(0, 200))}`, PARSE_ERROR.syntax);
    previous = token;
    if (token === ':') throw parseError(`the all-pads link ':' is not supported (GStreamer 1.22 links pads of either direction with it); use '!': ${JSON.stringify(description.slice(0, 200))}`, PARSE_ERROR.link);
    if (token === '(') names.push(new Set());
    if (token === ')') {
      names.pop();
      if (names.length === 0) throw parseError(`syntax error: unbalanced ')' in ${JSON.stringify(description.slice(0, 200))}`, PARSE_ERROR.syntax);
    }
    const equals = token.indexOf('=');
    if (token === '!' || token === '(' || token === ')' || equals <= 0) {
      seen = new Set(); // a link, a bin's edge, or the next element
      continue;
    }
    const property = token.slice(0, equals);
    if (seen.has(property)) throw parseError(`the description sets ${property} twice on one element: ${JSON.stringify(description.slice(0, 200))}`, PARSE_ERROR.couldNotSetProperty);
    seen.add(property);
    if (property === 'name') {
      const name = token.slice(equals + 1).replace(/^"(.*)"$/, '$1');
      if (names.at(-1)!.has(name)) throw parseError(`two elements are named ${JSON.stringify(name)} in one bin: ${JSON.stringify(description.slice(0, 200))}`, PARSE_ERROR.link);
      names.at(-1)!.add(name);
    }
  }
  if (names.length !== 1) throw parseError(`syntax error: unbalanced '(' in ${JSON.stringify(description.slice(0, 200))}`, PARSE_ERROR.syntax);
}

/**
 * Whitespace-separated tokens outside double quotes; `!`, `(` and `)` are tokens
 * of their own, and so is a `:` that starts a token (a link, as GStreamer's
 * lexer reads it; inside a value such as `uri=a:b` it is not).
 */
function tokens(description: string): string[] {
  const result: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < description.length; i++) {
    const c = description[i];
    if (quoted) {
      current += c;
      if (c === '\\') current += description[++i] ?? '';
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      current += c;
      quoted = true;
    } else if (/\s/.test(c) || c === '!' || c === '(' || c === ')' || (c === ':' && current === '')) {
      if (current !== '') result.push(current);
      current = '';
      if (!/\s/.test(c)) result.push(c);
    } else {
      current += c;
    }
  }
  if (current !== '') result.push(current);
  return result;
}

/** Elements a description makes: tokens that start an element (a factory name), not references, properties or caps. */
function elementCount(description: string): number {
  let count = 0;
  let startsElement = true;
  for (const token of tokens(description)) {
    if (token === '!' || token === '(' || token === ')') {
      startsElement = true;
      continue;
    }
    if (/^[A-Za-z][\w-]*$/.test(token) && (startsElement || !token.includes('='))) count++;
    startsElement = false;
  }
  return count;
}
