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
// A description of that shape (a link from a reference) is first parsed with an
// `identity` in front: the result is then never NULL, so that parse fails
// cleanly if any element fails, and only a description whose every element can
// be made reaches the real parse. Branches (`pipeline.add()`, `track.link()`,
// `addTrack()`) are safe without this: gst_parse_bin_from_description() wraps
// them in `bin.( ... )`, and a bin is always made.
import { withInstallHint } from './missing-dependency.js';
import { native } from './native.js';

/**
 * A link whose source is a name reference: `name.` or `name.pad` (optionally
 * `,pad`...) before `!`. Conservative: a token with `=` is a property and cannot
 * be a reference; anything else with a dot before a link counts (a false match
 * only costs a trial parse).
 */
const REFERENCE_SOURCED_LINK = /(?:^|[\s(])[^\s!=()]*\.[^\s!=()]*\s*!/;

/** A name no description uses, for the trial parse's extra element. */
const TRIAL_ELEMENT = 'identity name=gst_webrtc_node_launch_guard';

/** Whether `description` has the shape that can crash gst_parse_launch() (see above). */
export function hasReferenceSourcedLink(description: string): boolean {
  return REFERENCE_SOURCED_LINK.test(description);
}

/**
 * Throws the parse error (a GstError, or MissingDependencyError for a missing
 * element) for a description that would crash gst_parse_launch(); returns
 * otherwise. Call before parsing a whole pipeline.
 */
export function checkLaunchDescription(description: string): void {
  if (!hasReferenceSourcedLink(description)) return;
  let trial;
  try {
    trial = new native.NativePipeline(`${TRIAL_ELEMENT} ${description}`, () => undefined);
  } catch (error) {
    throw withInstallHint(error);
  }
  trial.close();
}
