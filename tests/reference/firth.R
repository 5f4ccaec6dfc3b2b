# Reference values for rechallenge.stats.firth.fit_firth_cox from R coxphf (Firth-penalised
# Cox regression, Heinze & Schemper 2001) with its defaults: firth = TRUE, pl = TRUE
# (profile penalised-likelihood CIs and penalised LR p-values), alpha = 0.05, maxit = 50,
# maxhs = 5, epsilon = 1e-6, gconv = 1e-4, maxstep = 0.5, penalty = 0.5. Ties: coxphf
# always uses Breslow (fit$method.ties == "breslow").
#
# Run from the repository root:   Rscript tests/reference/firth.R
# (coxphf is not packaged for Debian: install it into a private library and point
# R_LIBS_USER at it, e.g. R CMD INSTALL -l /tmp/rlib coxphf_1.13.4.tar.gz, which needs
# r-base-dev, gfortran, r-cran-generics and r-cran-tibble.)
#
# Inputs: tests/reference/data/cox_monotone.csv and cox_lung.csv (written by cox.R) are
# reused as they are; the coxphf `breast` data set is written to firth_breast.csv.
# Writes tests/reference/fixtures/firth_<name>.json. Numbers use sprintf("%.17g").
#
# Note on loglik: coxphf divides every covariate by its sd before fitting, so its
# penalised log-likelihood 0.5 log|I| is that of the standardised design; it equals the
# unstandardised one minus sum(log(sd)) (I_std = D^-1 I D^-1, D = diag(sd)). The sds are stored
# as `scale_sd` so the Python side can compare; differences (the LR statistic) are free
# of the constant.

suppressPackageStartupMessages({
  library(survival)
  library(coxphf)
})

out_data <- "tests/reference/data"
out_fix <- "tests/reference/fixtures"
dir.create(out_data, showWarnings = FALSE, recursive = TRUE)
dir.create(out_fix, showWarnings = FALSE, recursive = TRUE)

source("tests/reference/json_writer.R")

# ---- one case ----------------------------------------------------------------------------
write_case <- function(name, d, covs, data_file, note = "") {
  keep <- c("time", "event", covs)
  stopifnot(all(complete.cases(d[, keep])))
  d <- d[, keep]
  rownames(d) <- NULL
  f <- as.formula(paste("Surv(time, event) ~", paste(covs, collapse = " + ")))
  warn <- character(0)
  fit <- withCallingHandlers(
    coxphf(f, data = d),
    warning = function(w) {
      warn <<- c(warn, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  stopifnot(fit$method.ties == "breslow", fit$method == "Penalized ML",
            fit$method.ci == "Profile Likelihood")
  ll <- fit$loglik
  res <- list(
    name = scalar(name),
    note = scalar(note),
    data = scalar(data_file),
    coxphf_version = scalar(as.character(packageVersion("coxphf"))),
    survival_version = scalar(as.character(packageVersion("survival"))),
    r_version = scalar(R.version.string),
    settings = list(
      alpha = scalar(0.05), maxit = scalar(50), maxhs = scalar(5), epsilon = scalar(1e-6),
      gconv = scalar(1e-4), maxstep = scalar(0.5), penalty = scalar(0.5),
      ties = scalar(fit$method.ties)
    ),
    covariates = covs,
    terms = names(coef(fit)),
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(fit$var))),
    var = as.vector(fit$var),
    hr_lower = unname(fit$ci.lower),
    hr_upper = unname(fit$ci.upper),
    p = unname(fit$prob),
    loglik = ll,
    lr = scalar(2 * (ll[2] - ll[1])),
    df = scalar(fit$df),
    scale_sd = unname(apply(model.matrix(f, d)[, -1, drop = FALSE], 2, sd)),
    iter = scalar(fit$iter),
    iter_ci = list(lower = unname(fit$iter.ci[, 1]), upper = unname(fit$iter.ci[, 2]),
                   p = unname(fit$iter.ci[, 3])),
    n = scalar(fit$n),
    events = scalar(sum(d$event)),
    warnings = warn
  )
  writeLines(to_json(res), file.path(out_fix, paste0("firth_", name, ".json")))
  cat("wrote", name, "n =", nrow(d), " coef =", format(coef(fit), digits = 6), "\n")
}

# ---- (a) coxphf's own breast data: Surv(TIME, CENS) ~ T + N + G + CD ---------------------
data(breast, package = "coxphf")
br <- data.frame(time = breast$TIME, event = breast$CENS, T = breast$T, N = breast$N,
                 G = breast$G, CD = breast$CD)
write.csv(br, file.path(out_data, "firth_breast.csv"), row.names = FALSE)
write_case("breast", br, c("T", "N", "G", "CD"), "firth_breast.csv",
           note = "coxphf::breast (Heinze & Schemper 2001), monotone likelihood in CD")

# ---- (b) monotone likelihood: subgroup 1 has no events (data from cox.R) -----------------
mono <- read.csv(file.path(out_data, "cox_monotone.csv"))
write_case("monotone", mono, c("subgroup", "age"), "cox_monotone.csv",
           note = "subgroup 1 has no events: coxph diverges, Firth is finite")

# ---- (c) tied event times: survival::lung complete cases (data from cox.R) ---------------
lung <- read.csv(file.path(out_data, "cox_lung.csv"))
stopifnot(any(duplicated(lung$time[lung$event == 1])))
write_case("lung", lung, c("age", "sex", "ph.ecog"), "cox_lung.csv",
           note = "lung, status 2 = event, complete cases; tied event times (Breslow)")
