-- wrk script: POST /api/v1/query with a rotating mix of questions, each a new conversation.
-- The mix is chosen by the MIX environment variable: "cheap" (questions whose SQL touches
-- small or indexed tables) or "heavy" (aggregations that scan the 40,000 orders).
local mixes = {
  cheap = {
    "How many customers are there?",
    "How many customers are in Germany?",
    "List the products in the Books category",
    "What are the 5 most expensive products?",
    "Which employees work in Europe?",
    "How many products are discontinued?",
    "average unit price of products by category",
    "How many sales managers are there?",
    "What is the highest salary?",
    "number of employees per region",
  },
  heavy = {
    "total revenue by country",
    "Top 5 customers by revenue",
    "revenue per month in 2024",
    "How many orders were placed last year?",
    "average order value by segment",
  },
}
local questions = mixes[os.getenv("MIX") or "cheap"] or mixes.cheap
local bodies = {}
for i, q in ipairs(questions) do
  bodies[i] = '{"query": "' .. q .. '"}'
end
local counter = 0
local headers = {["Content-Type"] = "application/json"}
local token = os.getenv("TOKEN")
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end

request = function()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", "/api/v1/query", headers, body)
end

local failures = 0
response = function(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d, errors (non-2xx) %d, socket errors %d\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("throughput %.0f req/s\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%s %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
