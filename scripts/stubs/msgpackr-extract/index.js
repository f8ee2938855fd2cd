// msgpackr treats a failing require of its optional accelerator as "not installed".
throw new Error("msgpackr-extract is not installed (Brook uses msgpackr's pure-JS path)");
