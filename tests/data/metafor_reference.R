# Reference values for metaanalysis/analysis/pooling.py, computed with R's metafor.
#
#   cd tests/data && Rscript metafor_reference.R      (Debian: apt-get install r-cran-metafor)
#
# writes metafor_reference.json next to this script (what tests/test_pooling.py reads). Numbers
# are written with 17 significant digits (sprintf "%.17g", which round-trips a double exactly): jsonlite stops at 15, and the
# inputs (yi, vi) should reach Python bit for bit.
#
# Every dataset is fitted with method in DL, REML, PM and test in z, knha, twice:
#   control "default": metafor's own defaults (REML: Fisher scoring, threshold 1e-5 on the change
#                      in tau2, maxiter 100; PM: uniroot with tol = .Machine$double.eps^0.25);
#   control "tight":   REML threshold 1e-10 with maxiter 1000, PM uniroot tol 1e-12, so that the
#                      reference is the estimator's exact value rather than where metafor stopped.
# DL is closed-form and the same under both.

suppressPackageStartupMessages(library(metafor))

## ---- a small JSON writer (objects = named lists, arrays = unnamed lists / vectors) ----------
json_scalar <- function(x) {
  if (is.null(x) || length(x) == 0) return("null")
  if (is.logical(x)) return(if (is.na(x)) "null" else if (x) "true" else "false")
  if (is.character(x)) return(paste0("\"", gsub("\"", "\\\\\"", x), "\""))
  if (is.na(x) || !is.finite(x)) return("null")
  if (is.integer(x)) return(sprintf("%d", x))
  sprintf("%.17g", x)
}
to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  end <- strrep(" ", indent)
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    if (!is.null(names(x))) {
      items <- vapply(seq_along(x), function(i)
        paste0(pad, "\"", names(x)[i], "\": ", to_json(x[[i]], indent + 2)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", end, "}"))
    }
    items <- vapply(x, function(e) paste0(pad, to_json(e, indent + 2)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", end, "]"))
  }
  if (inherits(x, "AsIs") || length(x) != 1)  # I(...) forces an array, even of length 1
    return(paste0("[", paste(vapply(unclass(x), json_scalar, ""), collapse = ", "), "]"))
  json_scalar(x)
}

## ---- datasets --------------------------------------------------------------------------------
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
geo <- function(a, b, n) exp(seq(log(a), log(b), length.out = n))

datasets <- list(
  bcg = list(
    description = "dat.bcg: log risk ratios, escalc(measure='RR', ai=tpos, bi=tneg, ci=cpos, di=cneg); 13 trials",
    yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi)),
  homogeneous3 = list(
    description = "k = 3, Q < k - 1: tau2 = 0 under every estimator; HKSJ factor q* < 1 (narrower than z)",
    yi = c(0.50, 0.52, 0.47), vi = c(0.04, 0.05, 0.06)),
  extreme17 = list(
    description = paste("k = 17, effects geometric from 0.003 to 20, variances geometric from 1e-6 to 50",
                        "(max/min = 5e7), the most precise studies have the smallest effects:",
                        "DL's tau2 collapses; REML's Fisher scoring converges slowly"),
    yi = geo(0.003, 20, 17), vi = geo(1e-6, 50, 17)),
  extreme17_reversed = list(
    description = "as extreme17 but variances in reverse order (most precise study has the largest effect)",
    yi = geo(0.003, 20, 17), vi = rev(geo(1e-6, 50, 17))),
  k2 = list(
    description = "k = 2, heterogeneous (tau2 > 0); HKSJ uses t with 1 df",
    yi = c(0.2, 0.9), vi = c(0.04, 0.09)),
  k2_homogeneous = list(
    description = "k = 2, Q < 1: tau2 = 0",
    yi = c(0.2, 0.25), vi = c(0.04, 0.09)),
  handworked3 = list(
    description = "the hand-worked DerSimonian-Laird example of tests/test_atlas_synthesis.py",
    yi = c(0.1, 0.5, 0.9), vi = c(0.01, 0.04, 0.09)),
  identical3 = list(
    description = "k = 3, identical effects: Q = 0, knha residual variance 0 so metafor's knha se is 0",
    yi = c(0.4, 0.4, 0.4), vi = c(0.01, 0.02, 0.03)),
  k1 = list(
    description = "k = 1: metafor sets tau2 = 0 and switches test to z (with a warning)",
    yi = c(0.3), vi = c(0.04))
)

controls <- list(
  default = list(REML = list(), PM = list(), DL = list()),
  tight = list(REML = list(threshold = 1e-10, maxiter = 1000), PM = list(tol = 1e-12), DL = list())
)

fit_one <- function(d, method, test, control, level = 95) {
  warns <- character(0)
  res <- withCallingHandlers(
    rma.uni(yi = d$yi, vi = d$vi, method = method, test = test, control = control, level = level),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  pr <- predict(res)
  pr_riley <- if (res$k >= 3) predict(res, pi.type = "riley") else list(pi.lb = NA, pi.ub = NA)
  list(method = method, test = test, test_used = res$test, level = level / 100,
       estimate = as.numeric(res$beta), se = as.numeric(res$se),
       ci_lb = as.numeric(res$ci.lb), ci_ub = as.numeric(res$ci.ub),
       tau2 = as.numeric(res$tau2), QE = as.numeric(res$QE), QEp = as.numeric(res$QEp),
       I2 = as.numeric(res$I2), H2 = as.numeric(res$H2),
       pi_lb = as.numeric(pr$pi.lb), pi_ub = as.numeric(pr$pi.ub),
       pi_riley_lb = as.numeric(pr_riley$pi.lb), pi_riley_ub = as.numeric(pr_riley$pi.ub),
       weights_percent = I(as.numeric(weights(res))),
       k = as.integer(res$k), ddf = as.numeric(res$ddf),
       warnings = I(warns))
}

out_sets <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  fits <- list()
  for (cname in names(controls)) {
    for (method in c("DL", "REML", "PM")) {
      for (test in c("z", "knha")) {
        f <- fit_one(d, method, test, controls[[cname]][[method]])
        fits[[length(fits) + 1]] <- c(list(control = cname), f)
      }
    }
  }
  if (name == "bcg") {  # one other level, to check that level reaches every interval
    for (method in c("DL", "REML", "PM")) for (test in c("z", "knha")) {
      f <- fit_one(d, method, test, controls$tight[[method]], level = 90)
      fits[[length(fits) + 1]] <- c(list(control = "tight"), f)
    }
  }
  # Q-profile confidence interval for tau2 (confint.rma.uni's default type "QP"); it does not
  # depend on the estimator except through the search interval, so one REML fit is enough.
  qp <- NULL
  if (length(d$yi) >= 2) {
    r <- suppressWarnings(rma.uni(yi = d$yi, vi = d$vi, method = "REML",
                                  control = controls$tight$REML))
    ci <- confint(r, control = list(tol = 1e-12))
    qp <- list(tau2_lb = ci$random["tau^2", "ci.lb"], tau2_ub = ci$random["tau^2", "ci.ub"],
               lb_sign = ci$lb.sign[1], ub_sign = ci$ub.sign[1])
  }
  out_sets[[name]] <- list(description = d$description, yi = I(d$yi), vi = I(d$vi),
                           fits = fits, tau2_ci_qprofile = qp)
}

out <- list(
  metafor_version = as.character(packageVersion("metafor")),
  R_version = R.version.string,
  generated_by = "tests/data/metafor_reference.R",
  level = "0.95 unless a fit says otherwise (field 'level')",
  controls = list(
    default = "metafor defaults: REML threshold 1e-5, maxiter 100; PM uniroot tol .Machine$double.eps^0.25",
    tight = "REML control=list(threshold=1e-10, maxiter=1000); PM control=list(tol=1e-12)"),
  units = "I2 and weights_percent in percent, as metafor reports them",
  datasets = out_sets
)

path <- file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))),
                  "metafor_reference.json")
writeLines(to_json(out), path)
cat("wrote", path, "\n")
