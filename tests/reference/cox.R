# Reference values for rechallenge.stats.cox / zph from R survival (coxph, cox.zph).
#
# Run from the repository root:   Rscript tests/reference/cox.R
# Writes tests/reference/data/cox_<name>.csv (the analysed rows, complete cases only)
# and tests/reference/fixtures/cox_<name>.json (results for ties = efron and breslow).
# Numbers are written with sprintf("%.17g") so nothing is lost; jsonlite is not needed.
# The global tests come from the fit object (fit$score, fit$wald.test, loglik), not the
# printed summary, which rounds the Wald statistic.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")

out_data <- "tests/reference/data"
out_fix <- "tests/reference/fixtures"
dir.create(out_data, showWarnings = FALSE, recursive = TRUE)
dir.create(out_fix, showWarnings = FALSE, recursive = TRUE)

source("tests/reference/json_writer.R")

# ---- one fit -------------------------------------------------------------------------
fit_one <- function(d, covs, factors, strata, ties) {
  rhs <- paste(covs, collapse = " + ")
  if (!is.null(strata)) rhs <- paste0(rhs, " + strata(", strata, ")")
  f <- as.formula(paste("Surv(time, event) ~", rhs))
  warn <- character(0)
  fit <- withCallingHandlers(
    coxph(f, data = d, ties = ties),
    warning = function(w) {
      warn <<- c(warn, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  zph <- list()
  for (tr in c("km", "identity", "rank", "log")) {
    z <- tryCatch(cox.zph(fit, transform = tr), error = function(e) NULL)
    if (is.null(z)) next
    tab <- z$table
    zph[[tr]] <- list(
      terms = rownames(tab), chisq = tab[, "chisq"], df = tab[, "df"], p = tab[, "p"]
    )
  }
  ll <- fit$loglik
  list(
    ties = scalar(ties),
    terms = names(coef(fit)),
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(fit$var))),
    var = as.vector(fit$var),
    loglik = ll,
    lr = scalar(2 * (ll[2] - ll[1])),
    wald = scalar(unname(fit$wald.test)),
    score = scalar(unname(fit$score)),
    df = scalar(sum(!is.na(coef(fit)))),
    iter = scalar(fit$iter),
    n = scalar(fit$n),
    events = scalar(fit$nevent),
    concordance = scalar(unname(fit$concordance["concordance"])),
    concordance_se = scalar(unname(fit$concordance["std"])),
    warnings = warn,
    zph = zph
  )
}

write_case <- function(name, d, covs, factors = list(), strata = NULL, note = "") {
  keep <- c("time", "event", covs, strata)
  d <- d[complete.cases(d[, keep]), keep]
  for (f in names(factors)) d[[f]] <- relevel(factor(d[[f]]), ref = factors[[f]])
  write.csv(d, file.path(out_data, paste0("cox_", name, ".csv")), row.names = FALSE)
  res <- list(
    name = scalar(name),
    note = scalar(note),
    survival_version = scalar(as.character(packageVersion("survival"))),
    r_version = scalar(R.version.string),
    covariates = covs,
    factors = if (length(factors)) factors else structure(list(), names = character(0)),
    strata = if (is.null(strata)) NULL else scalar(strata),
    fits = list(
      efron = fit_one(d, covs, factors, strata, "efron"),
      breslow = fit_one(d, covs, factors, strata, "breslow")
    )
  )
  for (f in names(res$factors)) res$factors[[f]] <- scalar(res$factors[[f]])
  writeLines(to_json(res), file.path(out_fix, paste0("cox_", name, ".json")))
  cat("wrote", name, "n =", nrow(d), "\n")
}

# ---- R data sets ---------------------------------------------------------------------
lung2 <- transform(survival::lung, event = status - 1)
write_case("lung", lung2, c("age", "sex", "ph.ecog"), note = "lung, status 2 = event")
write_case("lung_strata", lung2, c("age", "ph.ecog"), strata = "sex",
           note = "lung stratified by sex")

vet <- transform(survival::veteran, event = status)
vet$celltype <- as.character(vet$celltype)
write_case("veteran", vet, c("trt", "celltype", "karno", "age"),
           factors = list(celltype = "squamous"),
           note = "veteran, celltype factor with reference squamous")

ov <- transform(survival::ovarian, time = futime, event = fustat)
write_case("ovarian", ov, c("age", "ecog.ps", "rx"), note = "ovarian")

col2 <- subset(survival::colon, etype == 2)
col2 <- transform(col2, event = status, rx = as.character(rx))
write_case("colon", col2, c("rx", "sex", "age", "nodes"), factors = list(rx = "Obs"),
           note = "colon etype == 2 (death), complete cases")

pbc2 <- transform(survival::pbc, event = as.integer(status == 2),
                  logbili = log(bili), logalb = log(albumin), logprotime = log(protime))
write_case("pbc", pbc2, c("age", "edema", "logbili", "logalb", "logprotime"),
           note = "pbc, death (status 2) vs transplant/censored, log-transformed labs")

aml2 <- transform(survival::aml, event = status, x = as.character(x))
write_case("aml", aml2, c("x"), factors = list(x = "Maintained"), note = "aml")

# ---- synthetic edge cases ------------------------------------------------------------
ref <- data.frame(
  time = c(2, 3, 3, 5, 6, 8, 9, 12, 15, 20, 4, 6, 6, 9, 11, 14, 18, 22, 25, 30),
  event = c(1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0),
  armB = rep(c(0, 1), each = 10),
  strat = rep(c(1, 2), 10)
)
write_case("reference", ref, c("armB"), note = "endpoints-and-statistics.md section 6")
write_case("reference_strata", ref, c("armB"), strata = "strat",
           note = "section 6 data, strata(strat)")

set.seed(20261124)
n <- 400
ties <- data.frame(
  time = sample(1:8, n, replace = TRUE),
  event = rbinom(n, 1, 0.7),
  x1 = rnorm(n), x2 = rbinom(n, 1, 0.4), x3 = round(runif(n, 0, 5), 1)
)
write_case("heavy_ties", ties, c("x1", "x2", "x3"), note = "8 distinct times, 400 rows")

n <- 150
grp <- sample(c("low", "mid", "high"), n, replace = TRUE)
rate <- c(low = 0.05, mid = 0.08, high = 0.15)[grp]
cat3 <- data.frame(
  time = round(rexp(n, rate), 1) + 0.1, event = rbinom(n, 1, 0.75),
  grade = grp, score = rnorm(n), centre = sample(c("A", "B", "C"), n, replace = TRUE)
)
write_case("categorical", cat3, c("grade", "score"), factors = list(grade = "mid"),
           strata = "centre", note = "3-level factor with reference 'mid', strata(centre)")

small <- data.frame(
  time = c(5, 8, 12, 12, 20, 23, 27, 31, 3, 9, 14, 22, 40),
  event = c(1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0),
  rechallenge = c(rep(0, 8), rep(1, 5)), age = c(61, 70, 55, 67, 72, 58, 64, 69, 66, 59, 71, 62, 68)
)
write_case("small13", small, c("rechallenge", "age"), note = "n = 13 cohort split 8/5")

mono <- data.frame(
  time = c(2, 4, 5, 7, 8, 10, 12, 15, 16, 20, 6, 9, 14, 18, 25),
  event = c(1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0),
  subgroup = c(rep(0, 10), rep(1, 5)),
  age = c(60, 65, 58, 71, 69, 55, 62, 67, 73, 59, 64, 61, 70, 57, 66)
)
write_case("monotone", mono, c("subgroup", "age"),
           note = "subgroup 1 has no events: monotone likelihood, infinite coefficient")
