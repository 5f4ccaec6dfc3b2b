# Reference values for the global (whole-variable) likelihood-ratio test of a factor in a Cox
# model: univariable, anova(coxph(Surv ~ factor)); multivariable, drop1(fit, test = "Chisq"),
# the fit without that variable on the same rows against the full fit.
#
# Run from the repository root after cox.R:   Rscript tests/reference/factor_lr.R
# Inputs (written by cox.R): tests/reference/data/cox_veteran.csv (celltype: 4 levels,
# reference squamous) and cox_categorical.csv (grade: 3 levels, reference mid).
# Writes tests/reference/fixtures/factor_lr.json. R 4.2, survival 3.5-3.
suppressPackageStartupMessages(library(survival))
source("tests/reference/json_writer.R")
data_dir <- "tests/reference/data"
fix_dir <- "tests/reference/fixtures"

lr <- function(d, factor, others, ref, ties) {
  d[[factor]] <- relevel(factor(d[[factor]]), ref = ref)
  uni <- coxph(as.formula(paste("Surv(time, event) ~", factor)), data = d, ties = ties)
  a <- anova(uni)
  full <- coxph(as.formula(paste("Surv(time, event) ~", paste(c(factor, others), collapse = "+"))),
                data = d, ties = ties)
  dr <- drop1(full, test = "Chisq")
  list(univariable = list(chi2 = scalar(a[factor, "Chisq"]), df = scalar(a[factor, "Df"]),
                          p = scalar(a[factor, "Pr(>|Chi|)"])),
       multivariable = list(variables = c(factor, others),
                            chi2 = scalar(dr[factor, "LRT"]), df = scalar(dr[factor, "Df"]),
                            p = scalar(dr[factor, "Pr(>Chi)"])))
}
vet <- read.csv(file.path(data_dir, "cox_veteran.csv"))
cat3 <- read.csv(file.path(data_dir, "cox_categorical.csv"))
res <- list()
for (ties in c("efron", "breslow")) {
  res[[paste0("veteran_", ties)]] <- c(list(factor = scalar("celltype"), reference = scalar("squamous"),
                                          ties = scalar(ties)),
                                     lr(vet, "celltype", c("trt", "karno"), "squamous", ties))
  res[[paste0("categorical_", ties)]] <- c(list(factor = scalar("grade"), reference = scalar("mid"),
                                              ties = scalar(ties)),
                                         lr(cat3, "grade", c("score"), "mid", ties))
}
writeLines(to_json(res), file.path(fix_dir, "factor_lr.json"))
cat("fixture written to", file.path(fix_dir, "factor_lr.json"), "\n")
