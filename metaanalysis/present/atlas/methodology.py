"""The atlas's methodology page: definitions, metrics, verdicts and their thresholds, realism
weighting, synthesis and pooling, the checks of the position paper's claims, the colour key of
every chart, and how to contribute."""

from __future__ import annotations

from typing import Any

from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS, METRICS

from .html import Page, definition_link, esc, html_table
from .parts import long_horizon

METRIC_TEXT: dict[str, str] = {
    "population_risk": "expected loss on real data of the model fitted at iteration t: cross-entropy for density models, excess squared error for regression",
    "kl_to_truth": "KL divergence from the real distribution to the fitted model, where defined",
    "variance_ratio": "trace of the fitted covariance over that of the real distribution (sample variance for non-Gaussian models)",
    "entropy": "entropy of the fitted distribution",
    "support_size": "number of outcomes with non-zero fitted probability (discrete models)",
    "tail_mass_ratio": "probability the fitted model gives to the real distribution's tails, over the real distribution's own",
    "hallucinated_mass": "probability the fitted model gives to regions where real data have (near) zero density",
    "mode_overlap": "overlap between fitted components or clusters that were separate in the real data",
    "mean_sq_error": "squared error of the fitted mean or parameters against the truth",
}
#: metrics shown on a paper page's trajectory chart, in this order, when measured


def thresholds_table() -> str:
    """The verdict thresholds, read from ``simulators.verdicts.Thresholds`` (name, value, meaning)."""
    try:
        from simulators.verdicts import Thresholds

        fields = Thresholds.model_fields
    except (ImportError, AttributeError):
        return "<p class='note'>The thresholds are documented in <code>simulators/verdicts.py</code>.</p>"
    rows = [[f"<code>{esc(name)}</code>", esc(f.default), esc(f.description or "")] for name, f in fields.items()]
    return html_table(["threshold", "value", "meaning"], rows, caption="Verdict thresholds in force")


def methodology_page(db: Any, extra: dict[str, Any]) -> Page:
    page = Page("Methodology", "", lead="How the atlas reaches every number it shows: definitions, metrics, verdicts, "
                "realism weights, synthesis and pooling, and the colours of its charts.")
    page.add('<h2 id="definitions">The eight definitions of model collapse</h2>'
             "<p>After Schaeffer, Kazdan, Arulandu &amp; Koyejo (arXiv 2503.03150), Figure 1, grouped in three families.</p>")
    rows = []
    for d in DEFINITIONS:
        e = extra["entries"].get(d)
        rows.append([definition_link(d, "", d), esc(DEFINITION_FAMILIES[d]), esc(e.name if e else ""),
                     esc(e.description if e else ""), esc(", ".join(e.metrics) if e else "")])
    page.add(html_table(["id", "family", "name", "operational description", "metrics"], rows,
                        caption="The eight definitions"))
    page.add('<h2 id="metrics">Metrics</h2><p>Measured per iteration and seed on every run; exact where a closed form '
             "exists (the truth is known in a simulator), otherwise on a large held-out sample of real data.</p>")
    page.add(html_table(["metric", "meaning"], [[f"<code>{esc(m)}</code>", esc(METRIC_TEXT.get(m, ""))] for m in METRICS],
                        caption="Metrics measured on every run"))
    page.add('<h2 id="verdicts">Verdicts: collapse, no-collapse, inconclusive</h2>'
             "<p>Every re-executed run gets one verdict per definition, about iterations 1..T of that run:</p><ul>"
             "<li><strong>collapse</strong>: the interval of the rule's statistic excludes no change <em>and</em> the "
             "effect reaches the rule's minimum effect of interest (a documented threshold below), so a rise of "
             "10<sup>−7</sup> in a mass is not called collapse;</li>"
             "<li><strong>no-collapse</strong> is a conclusion that needs evidence, never a failure to detect: the "
             "interval lies below the rule's equivalence margin, <em>and</em> the late trend of the run is not "
             "heading there (it levels off, or is too slow to reach the margin within the horizon);</li>"
             "<li><strong>inconclusive</strong>: neither, e.g. a run too short or with too few seeds, an estimate "
             "between the margins, or a verdict that too few bootstrap replicates of the seeds reproduce; it says "
             "why and estimates the seeds or iterations that would settle it;</li>"
             "<li><strong>not-measured</strong>: the run's model family cannot measure that quantity (a scaling-law "
             "change needs a sweep over n).</li></ul>"
             "<p><strong>Error rates.</strong> Intervals are percentile bootstraps over seeds (the independent "
             "replicates). The rules of one run share a family-wise level of 95% by Bonferroni; the iteration from "
             "which a collapse holds is found by testing from T backwards (a fixed-sequence procedure). A conclusive "
             "verdict must be <em>stable</em>: reached by at least the minimum share of bootstrap replicates of the "
             "seed set, so a verdict does not hinge on which seeds were drawn.</p>"
             "<p><strong>Horizons.</strong> A published rerun asks where the process is going: its verdicts are read "
             f"at a long-run horizon of {long_horizon()} iterations, so a short run of a process that collapses "
             "slowly (a Gaussian refitted to its own samples) is never no-collapse. A realistic rerun and its "
             "control ask what happens within their own iterations.</p>"
             "<p><strong>Claims: reproduce first, then compare.</strong> Each claim is judged against the setups "
             "that reproduce it. <em>Reproduction</em>: its published reruns give the claimed outcome "
             "(<em>reproduced</em>), conclusively the other one (<em>not reproduced</em>), or neither "
             "(<em>inconclusive</em>; setups that disagree among themselves count here). <em>Under realistic "
             "conditions</em>, only for a reproduced claim: <em>survives</em>, <em>does not survive</em> or "
             "<em>inconclusive</em>; for a claim that is not reproduced the realistic rerun says nothing about the "
             "paper (<em>not applicable</em>). The realistic rerun changes the policy and cuts the horizon at once; "
             "the <em>control</em> rerun (the published policy at the realistic horizon) tells which change a claim "
             "that does not survive lost to. A claim is listed as contradicted only when its published rerun "
             "conclusively disagrees and a disagreeing setup runs the paper's own model; when every disagreeing setup "
             "is a toy stand-in, the finding is about the stand-in and is listed apart. A claim that states a "
             "specific law is judged by the test of that law, not by counting collapse verdicts. Several setups' "
             "verdicts combine into one: agreeing conclusive verdicts give that verdict and win over inconclusive "
             "ones, disagreeing ones give <em>mixed</em>.</p>"
             "<p>Each rule, its statistic and its margins are documented in <code>simulators/verdicts/rules.py</code>; "
             "the thresholds in force, with the theory each margin guards:</p>")
    page.add(thresholds_table())
    page.add('<h2 id="realism">Realism weighting</h2>'
             "<p>Each paper is scored on five dimensions of the realistic conditions the position paper describes. "
             "A paper's weight is the mean, over the dimensions it is scored on, of score / highest score, so it lies "
             "between 0 (least realistic on every dimension) and 1 (most realistic on every one); unscored papers "
             "have no weight and are left out of weighted counts (never counted as 0 or 1).</p>"
             "<p><strong>A claim is weighted by its own policy.</strong> A paper that reports replace and accumulate "
             "experiments has one set of scores; its replace claims would otherwise inherit the realism of its "
             "accumulate setting. So each claim takes its paper's levels, except the two data-policy dimensions, "
             "which come from the claim's policy:</p>")
    from metaanalysis.analysis.weighting import POLICY_LEVELS

    page.add(html_table(["claim policy", "data propagation", "real data kept"],
                    [[esc(pol), esc(lv["data-propagation"]), esc(lv["real-data-kept"])] for pol, lv in POLICY_LEVELS.items()],
                        caption="Policy dimensions of a claim's realism, from its policy"))
    page.add("<p class='note'>accumulate-subsample counts as accumulation with all real data kept: the real data stay "
             "in the pool each fixed-size training set is drawn from. fresh (a fresh real share every iteration) "
             "counts like mix: some real data in mixed training sets.</p>")
    if db.realism is not None:
        for dim in db.realism.dimensions:
            page.add(f"<h3>{esc(dim.name)} <code>{esc(dim.id)}</code></h3><p>{esc(dim.description)}</p>")
            page.add(html_table(["level", "score", "description"], [[esc(lv.id), esc(lv.score), esc(lv.description)]
                                                                 for lv in dim.levels], numeric=(1,),
                                    caption=f"Levels of {dim.name}"))
        rd = db.realism.realistic_defaults.model_dump(exclude_none=True)
        page.add("<h3>Realistic reruns</h3><p>A setup's realistic rerun changes, unless its own <code>realistic</code> "
                 "block refines them: " + esc(", ".join(f"{k} = {v}" for k, v in rd.items())) + ".</p>")
    page.add('<h2 id="synthesis">Evidence synthesis and pooling</h2>'
             "<p><strong>Claims.</strong> For each definition, every claim is counted once (two claims of one paper under "
             "two policies are two findings) by outcome: collapse, no-collapse or mixed. <em>Support</em> is the share "
             "reporting collapse, a mixed claim counting one half; the weighted support does the same with each claim's "
             "realism weight. The position paper's own claims are not counted: the synthesis is meant to check them, "
             "so letting them vote would be circular. Claims may name definitions that the position paper's Figure 2 "
             "does not mark for that paper (the figure records the definitions a paper uses; a claim records what it "
             "reports), so claim counts and the matrix can differ.</p>"
             "<p><strong>Runs, counted once.</strong> Several setups (of one or several papers) can describe the same "
             "configuration: same simulator, parameters, policy, seeds and iterations. They share one stored run, "
             "and that run is counted once in verdict counts, checks and pooling; labels and tooltips name every setup "
             "that shares it.</p>"
             "<p><strong>Effect of a run.</strong> Per seed, y = log(risk at iteration 8 / risk at iteration 1): "
             "the same number of generations for every run, so that runs of 8 and of 1000 iterations measure the "
             "same thing (8 is the length of the shortest neural runs and the shortest the trend test accepts). "
             "Seeds where either risk is infinite, zero or negative have no log ratio and are excluded (the plot "
             "counts them); shorter runs have no effect. The run's effect is the mean of y over seeds with a "
             "t-interval across seeds.</p>"
             "<p><strong>Pooling.</strong> Only runs that measure one effect are pooled: one subgroup per data policy "
             "and model family. Random effects with tau² by restricted maximum likelihood (metafor's default), a "
             "Hartung-Knapp-Sidik-Jonkman interval for the mean (IntHout et al. 2014: the Wald interval is too narrow "
             "with few, very different studies), the Q-profile interval for tau², and a 95% prediction interval for a "
             "new run, estimate ± t<sub>k−2</sub> √(tau² + se²) (Higgins, Thompson &amp; Spiegelhalter 2009; "
             "metafor's <code>pi.type=\"riley\"</code>). The numbers are pinned against R's metafor. Where "
             "heterogeneity is considerable (I² ≥ 75%, the Cochrane Handbook's band), the runs do not share one "
             "effect: no pooled value is shown, only their spread. DerSimonian-Laird is available as an option "
             "(<code>metaanalysis.analysis.pooling.pool(method=\"DL\")</code>); it is not the default because its "
             "tau² collapses when a few runs with many seeds carry almost all the weight.</p>"
             "<p><strong>Support.</strong> The share of claims reporting collapse comes with its 95% Wilson interval "
             "(Brown, Cai &amp; DasGupta 2001); the realism-weighted share's interval uses Kish's effective number of "
             "claims.</p>")
    page.add('<h3 id="checks">Checking the position paper\'s claims</h3>'
             "<p>The checks are generated from the claims in <code>annotations/papers/schaeffer2025position.yaml</code> "
             "(statement, definition, policy, outcome). Each is compared with the verdicts of every paper's runs, both "
             "variants, with the claim's definition and run under the claim's policy. Status, from the share of "
             "measured runs (collapse or no-collapse verdicts) that collapse:</p>")
    from metaanalysis.analysis.synthesis import CHECK_RULES

    page.add(html_table(["claim", "status rule"], [[esc(a), esc(b)] for a, b in CHECK_RULES],
                        caption="Status rules of the checks"))
    page.add("<p>The position paper's Figure 4 claim (the expected iteration of collapse onto one outcome grows with "
             "n × initial entropy) is tested separately on its discrete setups' stored runs: monotone growth in n and "
             "in H0 (each step more than two standard errors: holds; any significant decrease: does not hold; "
             "otherwise inconclusive), and a weighted fit log T = c + a log n + b log H0, where proportionality means "
             "both 95% intervals of a and b contain 1.</p>")
    page.add(colour_key())
    page.add('<h2 id="contribute">How to contribute</h2>'
             "<ol><li>Add or edit <code>annotations/papers/KEY.yaml</code> (one file per paper; the key equals the file "
             "name). The format is in the JSON Schema <code>annotations/paper.schema.json</code>; the annotation guide "
             "is <code>CONTRIBUTING.md</code>.</li>"
             "<li>Run <code>mcatlas validate</code>: every problem is printed as <code>FILE:LINE: field: message</code>.</li>"
             "<li>Add <code>claims</code> (what the paper reports), <code>setups</code> (runnable configurations that stand "
             "for its experiments) and <code>realism</code> scores with a one-line justification each.</li>"
             "<li>Run <code>mcatlas rerun KEY</code> to re-execute the setups, then <code>mcatlas report --out site</code>.</li>"
             "<li>Open a pull request; CI validates the annotations and runs the tests.</li></ol>")
    return page


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{esc(colour)}" aria-hidden="true"></span>'


def colour_key() -> str:
    """The colour key of every chart (:mod:`metaanalysis.present.style`): what each colour
    means, with its contrast against the page."""
    from metaanalysis.present.charts_matrix import EMPTY_FILL
    from metaanalysis.present.style import (
        SEQUENTIAL_SCHEME,
        SUPPORT_COLOURS,
        USAGE_BAR_COLOURS,
        VARIANT_COLOURS,
        VERDICT_COLOURS,
        VERDICT_NAMES,
        contrast_ratio,
    )

    rows = [[_swatch(c) + esc(VERDICT_NAMES[v]), "verdict (only ever a verdict)", f"<code>{c}</code>",
             f"{contrast_ratio(c):.1f}:1"] for v, c in VERDICT_COLOURS.items()]
    rows.append([_swatch(EMPTY_FILL) + "no rerun, or not measured", "an empty cell of the matrix and the profiles",
                 f"<code>{EMPTY_FILL}</code>", "background"])
    looks = {"published": "solid line, circles", "realistic": "dashed line, squares", "control": "dotted line, triangles"}
    rows += [[_swatch(c) + esc(v), f"rerun ({looks[v]})", f"<code>{c}</code>", f"{contrast_ratio(c):.1f}:1"]
             for v, c in VARIANT_COLOURS.items()]
    rows += [[_swatch(c) + esc(k), "count of the support chart", f"<code>{c}</code>", f"{contrast_ratio(c):.1f}:1"]
             for k, c in SUPPORT_COLOURS.items()]
    rows += [[_swatch(c) + esc(k) + " use", "bars of the definitions chart", f"<code>{c}</code>",
              f"{contrast_ratio(c):.1f}:1"] for k, c in USAGE_BAR_COLOURS.items()]
    return ('<h2 id="colours">Colours</h2>'
            "<p>One palette for every chart. The verdict colours mean verdicts only, everywhere; they stay apart "
            "for readers with deuteranopia (checked on a simulation) and reach 3:1 contrast against the page. "
            "Everything else (the reruns, counts, usage) is blue, black or ochre, and every such category also "
            "differs in shape or line. Data policies and families of definitions are written on the axes rather "
            f"than coloured; realism scores use a single-hue scale ({esc(SEQUENTIAL_SCHEME)}, darker = more "
            "realistic). In the matrix, the <strong>letter</strong> of a cell is the usage (E explicit, I "
            "implicit), its <strong>fill</strong> the verdict as published and its <strong>corner</strong> the "
            "verdict under realistic conditions.</p>"
            + html_table(["colour", "means", "value", "contrast with the page"], rows, caption="Colour key"))
