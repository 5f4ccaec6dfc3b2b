# Reference values for rechallenge.stats.penalised (lasso, ridge, elastic-net Cox) from R
# glmnet (Debian r-cran-glmnet 4.1-6).
#
# Run from the repository root:   Rscript tests/reference/glmnet.R
# Writes tests/reference/data/glmnet_<name>.csv (time, event, covariates) and
# tests/reference/fixtures/glmnet_<name>.json: for alpha 1, 0.5 and 0, glmnet's default
# lambda sequence (its first value, lambda_max), coefficients on the original scale at
# three fixed lambdas (standardize = TRUE, thresh 1e-14 so glmnet's own convergence error
# is far below the test tolerance), and cv.glmnet with given fold ids and that lambda
# grid (partial-likelihood deviance, grouped): cvm, cvsd, lambda.min, lambda.1se.

suppressPackageStartupMessages({
  library(survival)
  library(glmnet)
})
stopifnot(packageVersion("glmnet") >= "4.1")
source("tests/reference/json_writer.R")
out_data <- "tests/reference/data"
out_fix <- "tests/reference/fixtures"

lung_cc <- na.omit(survival::lung[, c("time", "status", "age", "sex", "ph.ecog",
                                      "ph.karno", "pat.karno", "meal.cal", "wt.loss")])
lung_cc$event <- lung_cc$status - 1
lung_cc$status <- NULL
# glmnet's fitting code breaks a tie between a censored and an event time by adding
# 100 * .Machine$double.eps to the censored time, a shift lost to rounding for times above
# about 50; the tie then follows the Fortran sort order and can differ from fold to fold.
# The censored patient was known to be alive at that time, so it is moved half a day later
# here: every program then agrees that it stays in the risk set.
lung_cc$time <- lung_cc$time + 0.5 * (1 - lung_cc$event)

set.seed(20261202)
n <- 180; p <- 12
xs <- matrix(rnorm(n * p), n, p)
xs[, 2] <- xs[, 1] * 0.6 + rnorm(n, sd = 0.8)      # correlated pair
xs[, 3] <- rbinom(n, 1, 0.4)                        # a binary marker
colnames(xs) <- paste0("x", seq_len(p))
lp <- 0.7 * xs[, 1] - 0.5 * xs[, 3] + 0.3 * xs[, 5]
t_ev <- rexp(n, exp(lp) / 10)
t_c <- runif(n, 2, 25)
sim <- data.frame(time = round(pmin(t_ev, t_c)), event = as.integer(t_ev <= t_c), xs)
sim$time[sim$time == 0] <- 1                        # whole-day times: many ties

cases <- list(
  lung = list(data = lung_cc[, c("time", "event", setdiff(names(lung_cc), c("time", "event")))],
              nfolds = 5),
  sim = list(data = sim, nfolds = 10)
)

for (name in names(cases)) {
  d <- cases[[name]]$data
  write.csv(d, file.path(out_data, paste0("glmnet_", name, ".csv")), row.names = FALSE)
  covs <- setdiff(names(d), c("time", "event"))
  x <- as.matrix(d[, covs])
  y <- Surv(d$time, d$event)
  set.seed(7)
  foldid <- sample(rep(seq_len(cases[[name]]$nfolds), length.out = nrow(d)))
  fits <- list()
  for (a in c(1, 0.5, 0)) {
    path <- glmnet(x, y, family = "cox", alpha = a)
    lam_fixed <- path$lambda[c(5, 15, 30)]
    fixed <- glmnet(x, y, family = "cox", alpha = a, lambda = lam_fixed,
                    thresh = 1e-14, maxit = 1e6)
    grid <- path$lambda[seq(1, min(40, length(path$lambda)), by = 3)]
    cv <- cv.glmnet(x, y, family = "cox", alpha = a, lambda = grid, foldid = foldid,
                    thresh = 1e-14, maxit = 1e6, type.measure = "deviance", grouped = TRUE)
    fits[[paste0("alpha_", a)]] <- list(
      alpha = scalar(a), lambda_path = path$lambda, lambda_fixed = lam_fixed,
      coef = as.vector(as.matrix(fixed$beta)),  # column-major: one column per lambda
      dev_ratio = fixed$dev.ratio, null_dev = scalar(fixed$nulldev),
      cv = list(lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd,
                lambda_min = scalar(cv$lambda.min), lambda_1se = scalar(cv$lambda.1se),
                nzero = as.vector(cv$nzero))
    )
  }
  fixture <- list(name = scalar(name), covariates = covs, n = scalar(nrow(d)),
                  foldid = foldid, fits = fits)
  writeLines(to_json(fixture), file.path(out_fix, paste0("glmnet_", name, ".json")))
}
