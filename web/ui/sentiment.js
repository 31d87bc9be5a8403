// contactd caller sentiment, shared by the agent desktop and the supervisor
// wallboard. A small word list, scored per line in the browser: crude, but
// instant, private and the same on both pages. Angry terms raise alerts.
"use strict";

(() => {
  // Angry: a supervisor should look now.
  const ANGRY = [
    "furious", "ridiculous", "unacceptable", "outrageous", "disgusting", "disgraceful", "livid",
    "cancel", "complaint", "complain", "angry", "useless", "pathetic", "rubbish", "worst",
    "sick of", "fed up", "had enough", "joke", "incompetent", "lawyer", "sue",
    "damn", "hell", "crap", "bloody", "shit", "fuck", "fucking", "bullshit",
  ];
  const NEGATIVE = [
    "problem", "broken", "damaged", "faulty", "late", "wrong", "bad", "terrible", "awful", "unhappy",
    "disappointed", "frustrated", "frustrating", "annoyed", "annoying", "upset", "missing", "slow",
    "again", "still waiting", "nobody", "never", "poor", "hate", "fault", "refund", "overcharged",
  ];
  const POSITIVE = [
    "thanks", "thank you", "great", "perfect", "brilliant", "excellent", "lovely", "happy",
    "appreciate", "wonderful", "helpful", "sorted", "resolved", "fantastic", "awesome", "pleased",
  ];

  function norm(text) {
    return " " + String(text || "").toLowerCase().replace(/[^a-z']+/g, " ").trim() + " ";
  }

  function found(list, text) {
    const t = norm(text);
    return list.filter((w) => t.includes(" " + w + " "));
  }

  // angryTerms returns the angry words and phrases in text.
  function angryTerms(text) {
    return found(ANGRY, text);
  }

  // score is positive for pleased lines, negative for unhappy ones.
  function score(text) {
    return found(POSITIVE, text).length - found(NEGATIVE, text).length - 2 * angryTerms(text).length;
  }

  // mood sums the caller's last few lines: angry, negative, neutral or
  // positive.
  function mood(lines) {
    const recent = lines.slice(-4);
    if (recent.slice(-2).some((l) => angryTerms(l).length > 0)) return "angry";
    const s = recent.reduce((acc, l) => acc + score(l), 0);
    if (s < 0) return "negative";
    if (s > 0) return "positive";
    return "neutral";
  }

  window.contactdSentiment = { angryTerms, score, mood };
})();
