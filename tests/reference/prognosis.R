# Reference values for rechallenge.stats.parametric (exponential and Weibull fits) from
# R survival's survreg.
#
# Run from the repository root:   Rscript tests/reference/prognosis.R
# Reads the analysed rows in tests/reference/data/ and writes
# tests/reference/fixtures/prog_survreg_<name>.json: for each distribution the
# coefficients, scale, vcov (on the (beta, log scale) scale, column-major), loglik and
# iterations, and the median of the intercept-only curve.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")
out_fix <- "tests/reference/fixtures"

cases <- list(
  lung = list(file = "cox_lung.csv", covs = c("age", "sex")),
  lung_null = list(file = "cox_lung.csv", covs = character(0)),
  veteran = list(file = "cox_veteran.csv", covs = c("trt", "karno", "age")),
  veteran_null = list(file = "cox_veteran.csv", covs = character(0)),
  aml = list(file = "cox_aml.csv", covs = character(0)),
  ovarian = list(file = "cox_ovarian.csv", covs = c("age"))
)

for (name in names(cases)) {
  cc <- cases[[name]]
  d <- read.csv(file.path("tests/reference/data", cc$file))
  d <- d[d$time > 0, c("time", "event", cc$covs), drop = FALSE]
  rhs <- if (length(cc$covs)) paste(cc$covs, collapse = " + ") else "1"
  f <- as.formula(paste("Surv(time, event) ~", rhs))
  fits <- list()
  for (dist in c("weibull", "exponential")) {
    fit <- survreg(f, data = d, dist = dist)
    med <- if (length(cc$covs) == 0) {
      predict(fit, newdata = d[1, , drop = FALSE], type = "quantile", p = 0.5)[[1]]
    } else NA_real_
    fits[[dist]] <- list(
      coef = unname(coef(fit)), scale = scalar(fit$scale),
      var = as.vector(vcov(fit)), loglik = scalar(fit$loglik[2]),
      iterations = scalar(fit$iter), median = scalar(med)
    )
  }
  fixture <- list(
    name = scalar(name), covariates = cc$covs, n = scalar(nrow(d)),
    data = scalar(cc$file), fits = fits
  )
  writeLines(to_json(fixture), file.path(out_fix, paste0("prog_survreg_", name, ".json")))
}

# ---- validation metrics --------------------------------------------------------------------
# Harrell's and Uno's C (survival::concordance, timewt "n" and "n/G2", with and without
# ymax), the cumulative/dynamic AUC at t by its IPCW formula written out in base R (no
# timeROC in Debian), the calibration slope (coxph on the linear predictor) and rms
# validate's bootstrap optimism for Dxy and Slope. The bootstrap rows are those validate
# draws (set.seed, then sample(n, replace = TRUE) per resample, as rms predab.resample
# does); the script recomputes validate's table from them and stops if they disagree.
suppressPackageStartupMessages(library(rms))
G_minus <- function(time, status, at) {
  # censoring KM, events leaving the risk set before censorings at the same time
  cens <- sort(unique(time[status == 0]))
  g <- numeric(length(cens)); level <- 1
  for (k in seq_along(cens)) {
    u <- cens[k]
    level <- level * (1 - sum(time == u & status == 0) / (sum(time >= u) - sum(time == u & status == 1)))
    g[k] <- level
  }
  vapply(at, function(a) { i <- sum(cens < a); if (i == 0) 1 else g[i] }, 0)
}
auc_at <- function(time, status, m, t) {
  case <- time <= t & status == 1; ctrl <- time > t
  w <- 1 / G_minus(time, status, time[case])
  s <- outer(m[case], m[ctrl], ">") + 0.5 * outer(m[case], m[ctrl], "==")
  sum(w * s) / (sum(w) * sum(ctrl))
}
val_cases <- list(
  lung = list(file = "cox_lung.csv", covs = c("age", "sex", "ph.ecog"), times = c(180, 365, 540)),
  veteran = list(file = "cox_veteran.csv", covs = c("trt", "karno", "age"), times = c(30, 90, 180))
)
for (name in names(val_cases)) {
  vc <- val_cases[[name]]
  d <- read.csv(file.path("tests/reference/data", vc$file))
  d <- d[, c("time", "event", vc$covs)]
  f <- as.formula(paste("Surv(time, event) ~", paste(vc$covs, collapse = " + ")))
  fit <- coxph(f, data = d)
  lp <- predict(fit, type = "lp")
  harrell <- concordance(Surv(time, event) ~ lp, data = d, reverse = TRUE)$concordance
  uno <- concordance(Surv(time, event) ~ lp, data = d, reverse = TRUE, timewt = "n/G2")$concordance
  tau <- vc$times[3]
  uno_tau <- concordance(Surv(time, event) ~ lp, data = d, reverse = TRUE, timewt = "n/G2",
                         ymax = tau)$concordance
  auc <- vapply(vc$times, function(t) auc_at(d$time, d$event, lp, t), 0)
  slope <- unname(coef(coxph(Surv(d$time, d$event) ~ lp)))
  cf <- cph(f, data = d, x = TRUE, y = TRUE, surv = TRUE)
  B <- 40
  set.seed(2026)
  v <- validate(cf, B = B)
  set.seed(2026)
  idx <- t(vapply(seq_len(B), function(b) sample(nrow(d), replace = TRUE), integer(nrow(d))))
  # recompute validate's Dxy and Slope rows from those rows
  X <- as.matrix(d[, vc$covs]); tr <- te <- matrix(0, B, 2)
  for (b in seq_len(B)) {
    r <- idx[b, ]
    fb <- coxph(Surv(time, event) ~ X, data = list(time = d$time[r], event = d$event[r], X = X[r, ]))
    lpb <- drop(X[r, ] %*% coef(fb)); lpo <- drop(X %*% coef(fb))
    cb <- concordance(Surv(d$time[r], d$event[r]) ~ lpb, reverse = TRUE)$concordance
    co <- concordance(Surv(d$time, d$event) ~ lpo, reverse = TRUE)$concordance
    tr[b, ] <- c(2 * (cb - 0.5), 1)
    te[b, ] <- c(2 * (co - 0.5), unname(coef(coxph(Surv(d$time, d$event) ~ lpo))))
  }
  stopifnot(isTRUE(all.equal(colMeans(tr), unname(v[c("Dxy", "Slope"), "training"]), tolerance = 1e-6)))
  # Dxy agrees to rounding; rms refits the slope with cph's looser default (eps = 1e-4)
  stopifnot(isTRUE(all.equal(colMeans(te)[1], unname(v["Dxy", "test"]), tolerance = 1e-6)))
  stopifnot(isTRUE(all.equal(colMeans(te)[2], unname(v["Slope", "test"]), tolerance = 1e-3)))
  fixture <- list(
    name = scalar(name), data = scalar(vc$file), covariates = vc$covs,
    coef = unname(coef(fit)), harrell = scalar(harrell), uno = scalar(uno),
    tau = scalar(tau), uno_tau = scalar(uno_tau), auc_times = vc$times, auc = auc,
    slope = scalar(slope), B = scalar(B), indices = as.vector(t(idx)) - 1,
    recomputed = list(training = colMeans(tr), test = colMeans(te)),
    validate = list(
      index = c("Dxy", "Slope"),
      apparent = unname(v[c("Dxy", "Slope"), "index.orig"]),
      training = unname(v[c("Dxy", "Slope"), "training"]),
      test = unname(v[c("Dxy", "Slope"), "test"]),
      optimism = unname(v[c("Dxy", "Slope"), "optimism"]),
      corrected = unname(v[c("Dxy", "Slope"), "index.corrected"])
    )
  )
  writeLines(to_json(fixture), file.path(out_fix, paste0("prog_validation_", name, ".json")))
}

# ---- restricted cubic splines (rms::rcs) in a Cox model ------------------------------------
# Knots from rms's defaults (Hmisc::rcspline.eval), the basis, and coxph coefficients with
# rcs() terms: lung age (n >= 100), a 60-row subset (outer knots at the 5th values), and
# ph.karno (few distinct values, an end value held by >= 5 % of rows).
lung_s <- read.csv("tests/reference/data/cox_lung.csv")
lung_k <- na.omit(survival::lung[, c("time", "status", "age", "sex", "ph.karno")])
lung_k$event <- lung_k$status - 1
spl <- list(
  lung_age4 = list(d = lung_s, var = "age", nk = 4, other = "sex"),
  lung_age3 = list(d = lung_s, var = "age", nk = 3, other = "sex"),
  lung60_age5 = list(d = lung_s[1:60, ], var = "age", nk = 5, other = "sex"),
  karno4 = list(d = lung_k[, c("time", "event", "age", "sex", "ph.karno")], var = "ph.karno",
                nk = 4, other = "sex")
)
for (name in names(spl)) {
  s <- spl[[name]]
  d <- s$d
  x <- d[[s$var]]
  knots <- suppressWarnings(Hmisc::rcspline.eval(x, nk = s$nk, knots.only = TRUE))
  basis <- Hmisc::rcspline.eval(x, knots = knots, inclx = TRUE)
  f <- as.formula(sprintf("Surv(time, event) ~ rms::rcs(%s, %d) + %s", s$var, s$nk, s$other))
  fit <- suppressWarnings(coxph(f, data = d))
  write.csv(d[, c("time", "event", s$var, s$other)],
            file.path("tests/reference/data", paste0("prog_spline_", name, ".csv")),
            row.names = FALSE)
  fixture <- list(
    name = scalar(name), var = scalar(s$var), nk = scalar(s$nk), other = scalar(s$other),
    knots = unname(knots), basis = as.vector(basis), coef = unname(coef(fit)),
    se = unname(sqrt(diag(vcov(fit)))), loglik = scalar(fit$loglik[2])
  )
  writeLines(to_json(fixture), file.path(out_fix, paste0("prog_spline_", name, ".json")))
}

# ---- nomogram points (rms::nomogram) --------------------------------------------------------
d <- read.csv("tests/reference/data/prog_spline_lung_age4.csv")
dd <- datadist(d); options(datadist = "dd")
f <- cph(Surv(time, event) ~ rcs(age, 4) + sex, data = d, x = TRUE, y = TRUE, surv = TRUE)
ages <- seq(40, 80, by = 10); lp_at <- c(-0.5, 0, 0.5)
nom <- nomogram(f, age = ages, sex = c(1, 2), lp = TRUE, lp.at = lp_at)
writeLines(to_json(list(
  data = scalar("prog_spline_lung_age4.csv"), age = ages, sex = c(1, 2),
  age_points = unname(nom$age$points), sex_points = unname(nom$sex$points),
  lp_at = lp_at, lp_points = nom$lp$x, center = scalar(f$center),
  points_per_unit = scalar(attr(nom, "info")$sc)
)), file.path(out_fix, "prog_nomogram_lung.json"))
