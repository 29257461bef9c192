-- wrk script for bench/load.sh: a mixed API load on a 100,000-device
-- store. Reads (about 75%): device lists with filters, sorts and text
-- search, single devices by id, advisory lists, whoami. Writes (about
-- 25%): POST new devices, and PUT with If-Match on devices this thread
-- created (the revision comes from the previous answer, so a 412 is a
-- real error, not a race of the script).
local token = os.getenv("MW_TOKEN")
local ndev = tonumber(os.getenv("MW_DEVICES") or "100000")
local counter = 0
local ready = {}   -- devices this thread may PUT: {id=, rev=, asset=}
local thread_id
local sites = {"NBR", "WMR", "SCH"}
local types = {"infusion-pump", "patient-monitor", "workstation", "syringe-pump"}
local sorts = {"asset_id", "-updated_at", "vendor", "model"}
local terms = {"pump", "monitor", "ventilator", "analyzer", "ct", "mri"}

local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", tostring(os.time()) .. nthreads)
end

function init(args)
  thread_id = tid or tostring(os.time())
  math.randomseed(tonumber(thread_id) % 2147483647)
end

local function hdrs(extra)
  local h = {["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json"}
  if extra then for k, v in pairs(extra) do h[k] = v end end
  return h
end

local function body(asset, n)
  return string.format('{"asset_id":"%s","vendor":"Load Test Medical","model":"LT-%d","device_type":"infusion-pump","version":"1.%d","site":"NBR","department":"ICU","criticality":"life-supporting","ip":["10.99.%d.%d"]}',
    asset, n % 50, n % 9, math.floor(n / 250) % 250, n % 250 + 1)
end

-- MW_ONLY=post or MW_ONLY=put (bench/load.sh's per-kind runs) sends only
-- those writes; unset, the mix below.
local only = os.getenv("MW_ONLY")

function request()
  local r = math.random(100)
  if only == "post" then r = 80 elseif only == "put" then r = 95 end
  if r <= 30 then
    local q = "/api/v1/devices?limit=50&sort=" .. sorts[math.random(#sorts)]
    local f = math.random(3)
    if f == 1 then q = q .. "&site=" .. sites[math.random(#sites)]
    elseif f == 2 then q = q .. "&device_type=" .. types[math.random(#types)]
    else q = q .. "&q=" .. terms[math.random(#terms)] end
    return wrk.format("GET", q, hdrs())
  elseif r <= 55 then
    return wrk.format("GET", "/api/v1/devices/" .. math.random(ndev), hdrs())
  elseif r <= 67 then
    return wrk.format("GET", "/api/v1/advisories?limit=20", hdrs())
  elseif r <= 75 then
    return wrk.format("GET", "/api/v1/auth/whoami", hdrs())
  elseif r <= 88 or #ready == 0 then
    counter = counter + 1
    local asset = "LOAD-" .. thread_id .. "-" .. counter
    return wrk.format("POST", "/api/v1/devices", hdrs({["Content-Type"] = "application/json"}), body(asset, counter))
  else
    local d = table.remove(ready, 1)
    counter = counter + 1
    return wrk.format("PUT", "/api/v1/devices/" .. d.id,
      hdrs({["Content-Type"] = "application/json", ["If-Match"] = '"' .. d.rev .. '"'}), body(d.asset, counter))
  end
end

function response(status, headers, b)
  -- Go writes the header as "Etag"; until this was looked up under any
  -- spelling, no PUT was ever sent (they all fell back to POST).
  local etag = headers["ETag"] or headers["Etag"] or headers["etag"]
  if status == 201 or (status == 200 and etag and b:find('"asset_id":"LOAD%-')) then
    local id = b:match('"id":(%d+)')
    local asset = b:match('"asset_id":"(LOAD%-[^"]+)"')
    local rev = (etag or ""):match('(%d+)')
    if id and asset and rev and #ready < 1000 then
      table.insert(ready, {id = id, rev = rev, asset = asset})
    end
  end
  if status >= 400 then
    io.stderr:write("HTTP " .. status .. ": " .. b:sub(1, 200) .. "\n")
  end
end
