# Reference values for rechallenge.stats.meta from R metafor 3.8 (escalc, rma, predict,
# leave1out, influence, baujat, transf.ipft, transf.ipft.hm).
#
# Run from the repository root:   Rscript tests/reference/metafor.R
# Writes tests/reference/fixtures/meta_<name>.json, one file per data set, each with every
# measure (PLO, PR, PFT) x method (REML, DL, PM, ML, FE) x test (z, knha) combination.
#
# Exact calls (the Python code must agree to 1e-6):
#   es  <- escalc(measure, xi = events, ni = n, add = 1/2 (PLO, PR) or 0 (PFT), to = "only0")
#   fit <- rma(yi, vi, data = es, method = method, test = test, level = 100 * conf_level,
#              control = list(threshold = 1e-12, maxiter = 1000, tol = 1e-12))
# The control list makes REML/ML (Fisher scoring, default threshold 1e-5) and PM (uniroot,
# default tol eps^0.25) converge fully; with metafor's defaults tau^2 differs from the
# converged value by more than 1e-6 in some of these data sets.
# Back-transformation: PLO transf.ilogit; PR identity clipped to [0, 1]; PFT pooled values
# with transf.ipft.hm(targs = list(ni = n)), study intervals with transf.ipft(., n_i).
# The data sets are synthetic (made up to reach each edge case), not published studies.

suppressPackageStartupMessages(library(metafor))
stopifnot(packageVersion("metafor") >= "3.8")

out_fix <- "tests/reference/fixtures"
dir.create(out_fix, showWarnings = FALSE, recursive = TRUE)
source("tests/reference/json_writer.R")
pdf(NULL) # baujat() draws; keep the plot off screen

CONTROL <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12)
MEASURES <- c("PLO", "PR", "PFT")
METHODS <- c("REML", "DL", "PM", "ML", "FE")

back <- function(measure, x, n) {
  if (measure == "PLO") return(transf.ilogit(x))
  if (measure == "PR") return(pmin(pmax(x, 0), 1))
  transf.ipft.hm(x, targs = list(ni = n))
}

study_back <- function(measure, x, n) {
  if (measure == "PFT") return(transf.ipft(x, n))
  back(measure, x, n)
}

# predict() of a common-effect model has no prediction interval: it equals the CI (tau^2 = 0).
pi_bounds <- function(pr) {
  if (is.null(pr$pi.lb)) c(pr$ci.lb, pr$ci.ub) else c(pr$pi.lb, pr$pi.ub)
}

fit_rma <- function(yi, vi, method, test, level) {
  suppressWarnings(rma(yi, vi, method = method, test = test, level = 100 * level,
                       control = CONTROL))
}

model_json <- function(fit) {
  pr <- predict(fit)
  list(
    estimate = scalar(unname(coef(fit))), se = scalar(fit$se),
    ci_lower = scalar(fit$ci.lb), ci_upper = scalar(fit$ci.ub),
    z = scalar(fit$zval), p = scalar(fit$pval),
    tau2 = scalar(fit$tau2), Q = scalar(fit$QE), Q_df = scalar(fit$k - 1),
    Q_p = scalar(fit$QEp), I2 = scalar(fit$I2), H2 = scalar(fit$H2),
    pi_lower = scalar(pi_bounds(pr)[1]), pi_upper = scalar(pi_bounds(pr)[2]),
    weights = unname(weights(fit))
  )
}

one_fit <- function(d, measure, method, test, level) {
  add <- if (measure == "PFT") 0 else 1 / 2
  es <- escalc(measure = measure, xi = d$events, ni = d$n, add = add, to = "only0")
  fit <- fit_rma(es$yi, es$vi, method, test, level)
  z <- qnorm(1 - (1 - level) / 2)
  pr <- predict(fit)
  res <- c(
    list(measure = scalar(measure), method = scalar(method), test = scalar(test),
         conf_level = scalar(level), yi = as.numeric(es$yi), vi = as.numeric(es$vi)),
    model_json(fit),
    list(
      pooled = back(measure, c(pr$pred, pr$ci.lb, pr$ci.ub), d$n),
      prediction = back(measure, pi_bounds(pr), d$n),
      study_estimate = study_back(measure, as.numeric(es$yi), d$n),
      study_lower = study_back(measure, as.numeric(es$yi) - z * sqrt(es$vi), d$n),
      study_upper = study_back(measure, as.numeric(es$yi) + z * sqrt(es$vi), d$n)
    )
  )
  if (fit$k >= 3) res <- c(res, list(sensitivity = sensitivity(fit, d)))
  res
}

sensitivity <- function(fit, d) {
  l1 <- leave1out(fit)
  inf <- influence(fit)$inf
  bj <- baujat(fit)
  out <- list(
    leave1out = list(estimate = l1$estimate, se = l1$se, ci_lower = l1$ci.lb,
                     ci_upper = l1$ci.ub, tau2 = l1$tau2, I2 = l1$I2, Q = l1$Q, Q_p = l1$Qp),
    influence = list(rstudent = inf$rstudent, dffits = inf$dffits, cook_d = inf$cook.d,
                     cov_r = inf$cov.r, tau2_del = inf$tau2.del, QE_del = inf$QE.del,
                     hat = inf$hat, weight = inf$weight),
    baujat = list(x = bj$x, y = bj$y)
  )
  if (!is.null(d$group)) {
    lev <- unique(d$group)
    if (all(table(d$group)[lev] >= 2)) {
      fits <- lapply(lev, function(g) fit_rma(fit$yi[d$group == g], fit$vi[d$group == g],
                                               fit$method, fit$test, fit$level / 1))
      est <- vapply(fits, function(f) unname(coef(f)), 0)
      ses <- vapply(fits, function(f) f$se, 0)
      between <- rma(est, sei = ses, method = "FE")
      out$subgroups <- list(levels = lev, estimates = est, ses = ses,
                            tau2 = vapply(fits, function(f) f$tau2, 0),
                            Q_between = scalar(between$QE), Q_between_df = scalar(length(lev) - 1),
                            Q_between_p = scalar(between$QEp))
    }
  }
  out
}

write_case <- function(name, d, levels = 0.95, note = "") {
  fits <- list()
  for (measure in MEASURES) for (method in METHODS) for (test in c("z", "knha"))
    for (level in levels)
      fits[[length(fits) + 1]] <- one_fit(d, measure, method, test, level)
  x <- list(name = scalar(name), note = scalar(note), events = d$events, n = d$n,
            group = if (is.null(d$group)) character(0) else d$group, fits = fits)
  writeLines(to_json(x), file.path(out_fix, paste0("meta_", name, ".json")))
}

write_case("mixed8", list(
  events = c(0, 3, 5, 12, 2, 8, 20, 7), n = c(13, 12, 25, 60, 40, 30, 165, 7),
  group = c("yes", "no", "no", "yes", "no", "yes", "no", "yes")
), levels = c(0.95, 0.9), note = "one zero-event and one all-event study")
write_case("k2", list(events = c(3, 10), n = c(20, 45)), note = "k = 2")
write_case("k3", list(events = c(0, 4, 9), n = c(13, 30, 40)), note = "k = 3, zero events")
write_case("hetero", list(
  events = c(1, 30, 5, 40, 2, 25), n = c(50, 40, 60, 50, 45, 35),
  group = c("a", "b", "a", "b", "a", "b")
), note = "large heterogeneity")
write_case("homog", list(events = c(5, 6, 5, 7), n = c(50, 55, 48, 60)),
           note = "tau^2 at its bound 0 for every estimator")
write_case("allevent", list(events = c(10, 12, 8), n = c(10, 15, 8)),
           note = "two all-event studies, k = 3")

# ---- pooled medians: rma on log(median), se from the CI width ---------------------------
medians_case <- function(name, med, lo, up, note) {
  se <- (log(up) - log(lo)) / (2 * qnorm(0.975))
  fits <- list()
  for (method in METHODS) for (test in c("z", "knha")) {
    fit <- fit_rma(log(med), se^2, method, test, 0.95)
    pr <- predict(fit)
    fits[[length(fits) + 1]] <- c(
      list(method = scalar(method), test = scalar(test), yi = log(med), vi = se^2),
      model_json(fit),
      list(pooled = exp(c(pr$pred, pr$ci.lb, pr$ci.ub)), prediction = exp(pi_bounds(pr)))
    )
  }
  x <- list(name = scalar(name), note = scalar(note), median = med, lower = lo, upper = up,
            fits = fits)
  writeLines(to_json(x), file.path(out_fix, paste0("meta_medians_", name, ".json")))
}
medians_case("five", c(2.9, 1.6, 3.5, 6.8, 2.1), c(1.97, 1.1, 2.4, 4.0, 1.5),
             c(3.83, 2.3, 5.1, 9.6, 3.4), "five synthetic medians (months)")
medians_case("k2", c(2.9, 5.0), c(1.97, 3.1), c(3.83, 8.2), "k = 2")
