# Reference values for rechallenge.stats.finegray from R cmprsk 2.2 (crr).
#
# Run from the repository root:   Rscript tests/reference/finegray.R
# Writes tests/reference/fixtures/cmprsk_crr.json: per case the rows and crr's results.
# crr's default gtol = 1e-6 stops up to ~1e-5 from the maximum of the pseudo-likelihood;
# every fit here is run with gtol = 1e-13 and maxiter = 200, so it reaches the maximum,
# and the default fit is stored too (coef_default) to show the difference.

suppressPackageStartupMessages({ library(cmprsk); library(survival) })
stopifnot(packageVersion("cmprsk") >= "2.2")
source("tests/reference/json_writer.R")

run_case <- function(name, time, status, x, cause = 1) {
  x <- as.matrix(x)
  fit <- crr(time, status, x, failcode = cause, gtol = 1e-13, maxiter = 200)
  def <- crr(time, status, x, failcode = cause)
  list(name = scalar(name), cause = scalar(cause), time = time, status = status,
       terms = colnames(x), x = lapply(seq_len(ncol(x)), function(j) unname(x[, j])),
       coef = unname(fit$coef), var = as.vector(fit$var), invinf = as.vector(fit$invinf),
       loglik = scalar(fit$loglik), loglik_null = scalar(fit$loglik.null),
       converged = scalar(fit$converged), n = scalar(fit$n),
       coef_default = unname(def$coef))
}

cases <- list()
set.seed(11)
n <- 120
t <- round(rexp(n, 0.15)) + 1                    # whole days: many ties
s <- sample(0:2, n, TRUE, c(.3, .4, .3))
x <- cbind(a = round(rnorm(n), 2), b = rbinom(n, 1, .5))
cases[[length(cases) + 1]] <- run_case("ties2", t, s, x)
cases[[length(cases) + 1]] <- run_case("ties2_cause2", t, s, x, cause = 2)

m <- 150
tc <- signif(rweibull(m, 1.2, 5), 8)             # continuous times
sc <- sample(0:3, m, TRUE)
xc <- cbind(u = rnorm(m), v = runif(m), w = rbinom(m, 1, .3))
cases[[length(cases) + 1]] <- run_case("cont3", tc, sc, xc)

mg <- survival::mgus2
mg <- mg[complete.cases(mg[, c("age", "sex", "hgb")]), ]
etime <- with(mg, ifelse(pstat == 0, futime, ptime))
event <- with(mg, ifelse(pstat == 0, 2 * death, 1))
xm <- cbind(age = mg$age, male = as.numeric(mg$sex == "M"), hgb = mg$hgb)
cases[[length(cases) + 1]] <- run_case("mgus2", etime, event, xm)

writeLines(to_json(list(cmprsk = scalar(as.character(packageVersion("cmprsk"))), cases = cases)),
           "tests/reference/fixtures/cmprsk_crr.json")
